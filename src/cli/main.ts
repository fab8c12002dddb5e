/** The `tapwallet` command. Each subcommand lives in `commands/` and registers itself here. */
import { Command, CommanderError } from "commander";
import { commands } from "./commands/index.js";
import { errorReport } from "./errors.js";

/** Whether the command that runs was given `--json` (its errors are then JSON on stdout too). */
let json = false;

const program = new Command("tapwallet")
  .description("Tapwallet：开源 NFC 钱包平台 / open-source NFC wallet platform")
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) })
  .hook("preAction", (_program, action) => {
    json = action.opts().json === true;
  });

for (const register of commands) register(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode);
  const report = errorReport(e, json);
  process.stderr.write(report.stderr);
  if (report.stdout) process.stdout.write(report.stdout);
  process.exit(report.exitCode);
}
