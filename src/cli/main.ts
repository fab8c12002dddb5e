/** The `tapwallet` command. Each subcommand lives in `commands/` and registers itself here. */
import { Command, CommanderError } from "commander";
import { isTapwalletError } from "../core/errors.js";
import { commands } from "./commands/index.js";

const program = new Command("tapwallet")
  .description("Tapwallet：开源 NFC 钱包平台 / open-source NFC wallet platform")
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  if (isTapwalletError(e)) {
    process.stderr.write(`错误 / error: ${e.zh} / ${e.en}\n`);
    process.exit(2);
  }
  process.stderr.write(`错误 / error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
