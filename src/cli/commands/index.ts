import type { Command } from "commander";

/** Every subcommand's registration; add one line per command module. */
export const commands: ((program: Command) => void)[] = [];
