import type { Command } from "commander";
import { register as demo } from "./demo.js";

/** Every subcommand's registration; add one line per command module. */
export const commands: ((program: Command) => void)[] = [demo];
