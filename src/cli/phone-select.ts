/**
 * Which virtual phone a command means: one rule for every command that takes one (docs/PHONE.md).
 *
 *   tapwallet phone …                       --name NAME (default: default) | --state DIR
 *   tapwallet pos | gate | door add | door open
 *                                           --phone [NAME] (no NAME: the default phone) | --state DIR
 *
 * A NAME is the phone in `~/.tapwallet/phones/<NAME>` (`$TAPWALLET_HOME` moves the root); `--state DIR` is
 * any phone's state directory and wins over a name. `pos --phone FILE` also takes a bare SE file (a value
 * with a slash or ending in `.json`: what `tapwallet demo quickpass --save` writes).
 */
import { existsSync } from "node:fs";
import type { Command } from "commander";
import { TapwalletError } from "../core/errors.js";
import { type PhoneOptions, VirtualPhone, phoneDir } from "../device/index.js";

/** `--name NAME | --state DIR`, as the `phone` subcommands take them. */
export interface PhoneSelector {
  name?: string;
  state?: string;
}

/** `--phone [NAME] | --state DIR`, as the terminal commands take them (`phone: true`: the default phone). */
export interface TerminalPhoneOptions {
  phone?: string | boolean;
  state?: string;
}

/** Adds `--name` and `--state` to a `phone` subcommand. */
export function phoneSelectorOptions(c: Command): Command {
  return c
    .option("--name <name>", "手机名称 / phone name (~/.tapwallet/phones/<name>)", "default")
    .option("--state <dir>", "状态目录 / state directory (instead of --name)");
}

/** Adds `--phone [NAME]` and `--state DIR` to a terminal command. */
export function terminalPhoneOptions(
  c: Command,
  help = "虚拟手机 / a virtual phone (~/.tapwallet/phones/<name>, default: default)",
): Command {
  return c
    .option("--phone [name]", help)
    .option("--state <dir>", "虚拟手机状态目录 / a virtual phone's state directory (instead of --phone)");
}

export function openPhone(sel: PhoneSelector, options: PhoneOptions = {}): VirtualPhone {
  return VirtualPhone.open(phoneDir(sel), options);
}

/** Whether a terminal command was given a phone at all. */
export function phoneGiven(o: TerminalPhoneOptions): boolean {
  return o.phone !== undefined || o.state !== undefined;
}

/** The phone a terminal command's options name (none named: the default phone). */
export function terminalPhone(o: TerminalPhoneOptions, options: PhoneOptions = {}): VirtualPhone {
  const name = typeof o.phone === "string" ? o.phone : undefined;
  return openPhone(
    { ...(name !== undefined ? { name } : {}), ...(o.state ? { state: o.state } : {}) },
    options,
  );
}

/**
 * `pos --phone FILE`: the bare SE file a value with a slash or a `.json` ending names, or null for a phone
 * name. A file that is not there is an error that names it.
 */
export function seFileOption(o: TerminalPhoneOptions): string | null {
  if (typeof o.phone !== "string" || o.state !== undefined) return null;
  if (!/[/\\]|\.json$/i.test(o.phone)) return null;
  if (!existsSync(o.phone))
    throw new TapwalletError(
      "pos_usage",
      `找不到手机安全元件文件 ${o.phone}`,
      `no phone SE file at ${o.phone}`,
    );
  return o.phone;
}

/** Prints a line (or lines) on stdout, ending in one newline. */
export function out(s: string): void {
  process.stdout.write(s.endsWith("\n") ? s : s + "\n");
}
