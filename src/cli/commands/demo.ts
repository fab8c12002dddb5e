/** `tapwallet demo <name>`: guided end-to-end runs on a virtual phone. Each demo registers a subcommand here. */
import type { Command } from "commander";
import { register as quickpass } from "./demo-quickpass.js";
import { register as transit } from "./demo-transit.js";
import { register as wallet } from "./demo-wallet.js";

/** One line per demo module: each adds its subcommand to `demo`. */
const demos: ((demo: Command) => void)[] = [wallet, transit, quickpass];

export function register(program: Command): void {
  const demo = program.command("demo").description("演示 / guided demos on a virtual phone");
  for (const add of demos) add(demo);
}
