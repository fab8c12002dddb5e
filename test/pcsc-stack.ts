/**
 * Helpers for tests through the real PC/SC stack (pcscd + vsmartcard vpcd, set up by
 * scripts/setup-pcsc.sh): is the stack there, exclusive use of a vpcd slot across test files, and
 * `onVpcd(card, fn)`, which puts a card into "Virtual PCD 00 00" through our bridge and hands `fn` a
 * PC/SC `Link` onto it. An interop test of a terminal is then one call:
 *
 *   await onVpcd(phoneSe, async ({ link }) => expect(await gate.tap(link)).toMatchObject(...));
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { ContactlessCard } from "../src/nfc/link.js";
import { Pcsc, type PcscLink, type PcscLinkOptions } from "../src/nfc/pcsc.js";
import { pcscdSocketPath } from "../src/nfc/pcsc-native.js";
import type { StorageCard } from "../src/nfc/pcsc-storage.js";
import { VpcdBridge } from "../src/nfc/vpcd.js";
import type { VirtualIcc } from "../src/nfc/vpcd-icc.js";
import { VPCD_DEFAULT_PORT, vpcdReaderName } from "../src/nfc/vpcd-protocol.js";

const IN_CI = Boolean(process.env.CI);

function portListening(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, "utf8").split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(hex) && cols[3] === "0A") return true;
    }
  }
  return false;
}

function addonInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve("@pokusew/pcsclite");
    return true;
  } catch {
    return false;
  }
}

/** What of the stack is missing (empty when pcscd, vpcd, the addon and the client tools are all there). */
function missingStack(): string[] {
  const missing: string[] = [];
  if (!existsSync(pcscdSocketPath())) missing.push(`pcscd (${pcscdSocketPath()})`);
  if (!portListening(VPCD_DEFAULT_PORT)) missing.push(`vpcd (port ${VPCD_DEFAULT_PORT})`);
  if (!addonInstalled()) missing.push("@pokusew/pcsclite");
  for (const tool of ["/usr/bin/scriptor", "/usr/bin/opensc-tool", "/usr/bin/python3"])
    if (!existsSync(tool)) missing.push(tool);
  return missing;
}

/**
 * Tests through the stack run when it is there, and always in CI (where .ci/run sets it up: a missing
 * stack must fail there, not skip).
 */
export const RUN_STACK_TESTS = IN_CI || missingStack().length === 0;

/** For a stack test file's `beforeAll`: fails it, saying what is missing, when the stack is incomplete. */
export function assertStack(): void {
  const missing = missingStack();
  if (missing.length > 0)
    throw new Error(
      `PC/SC stack incomplete${IN_CI ? " in CI" : ""}: ${missing.join(", ")} (run scripts/setup-pcsc.sh)`,
    );
}

/** Hex with a space between bytes, as scriptor reads APDUs. */
export const spacedHex = (hex: string): string => hex.replace(/(..)(?!$)/g, "$1 ");

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** When this process last let go of the slot (to give waiting processes their turn). */
let lastRelease = 0;

/**
 * Holds a vpcd slot for this process (a lock directory; a holder that died is taken over). Waiting processes
 * leave a marker, and a process that has just let go waits its turn behind them, so that test files take turns
 * test by test instead of one file keeping the slot for all of its tests.
 */
export async function lockVpcdSlot(port = VPCD_DEFAULT_PORT, timeoutMs = 60_000): Promise<() => void> {
  const dir = `/tmp/tapwallet-vpcd-${port}.lock`;
  const waiting = `/tmp/tapwallet-vpcd-${port}.waiting`;
  const marker = `${waiting}/${process.pid}`;
  const deadline = Date.now() + timeoutMs;
  const othersWaiting = () =>
    existsSync(waiting) && readdirSync(waiting).some((f) => Number(f) !== process.pid && alive(Number(f)));
  try {
    for (;;) {
      const polite = Date.now() - lastRelease < 300 && othersWaiting();
      if (!polite) {
        try {
          mkdirSync(dir);
          writeFileSync(`${dir}/pid`, String(process.pid));
          return () => {
            rmSync(dir, { recursive: true, force: true });
            lastRelease = Date.now();
          };
        } catch {
          const holder = Number(existsSync(`${dir}/pid`) ? readFileSync(`${dir}/pid`, "utf8") : "0");
          if (holder > 0 && !alive(holder)) rmSync(dir, { recursive: true, force: true });
          if (Date.now() > deadline)
            throw new Error(`vpcd slot ${port} held by pid ${holder} for ${timeoutMs} ms`);
        }
      }
      mkdirSync(waiting, { recursive: true });
      writeFileSync(marker, "");
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    rmSync(marker, { force: true });
  }
}

export interface VpcdSession {
  bridge: VpcdBridge;
  pcsc: Pcsc;
  reader: string;
  /** A PC/SC link onto the card (field still off). */
  link: PcscLink;
}

/** Puts `card` into vpcd's reader through the bridge, runs `fn`, and takes everything down again. */
export async function onVpcd<T>(
  card: ContactlessCard | StorageCard | VirtualIcc,
  fn: (session: VpcdSession) => Promise<T>,
  options: { port?: number; link?: PcscLinkOptions } = {},
): Promise<T> {
  const port = options.port ?? VPCD_DEFAULT_PORT;
  const unlock = await lockVpcdSlot(port);
  const bridge = new VpcdBridge(card, { port });
  let pcsc: Pcsc | null = null;
  try {
    await withTimeout(bridge.start(), 5000, `vpcd did not accept the bridge on port ${port}`);
    pcsc = await Pcsc.open();
    const reader = await pcsc.waitForReader(vpcdReaderName(port));
    await pcsc.waitForCard(reader, 5000);
    return await fn({ bridge, pcsc, reader, link: pcsc.link(reader, options.link) });
  } finally {
    await bridge.stop();
    // Let pcscd see the card go, so that the next session does not find this one's card still listed.
    if (pcsc) {
      const reader = vpcdReaderName(port);
      if (pcsc.readers().includes(reader)) await pcsc.waitForCardRemoved(reader, 3000).catch(() => undefined);
      await pcsc.close();
    }
    unlock();
  }
}

/**
 * After the bridge was stopped (the card pulled out): waits until pcscd has seen the card go, plugs it in
 * again and waits until pcscd lists it (the link's field is off; call `link.fieldOn()` next).
 */
export async function replug({ bridge, pcsc, reader }: VpcdSession): Promise<void> {
  await pcsc.waitForCardRemoved(reader, 3000);
  await withTimeout(bridge.start(), 5000, "vpcd did not take the bridge back");
  await pcsc.waitForCard(reader, 5000);
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms))),
  ]);
}

/**
 * Runs a third-party client without blocking the event loop (the bridge answering it lives in this process).
 * Resolves with exit code and output; never rejects for a non-zero exit.
 */
export function runTool(
  file: string,
  args: string[],
  input?: string,
  timeoutMs = 20_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, https_proxy: "http://127.0.0.1:9", http_proxy: "http://127.0.0.1:9" };
    const child = execFile(file, args, { timeout: timeoutMs, env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * Holds vpcd slot `port` while someone else presents the card (a `tapwallet phone present` process, or
 * `presentPhone` in this one): `fn` gets PC/SC, the reader, and a way to wait for the card.
 */
export async function onVpcdSlot<T>(
  fn: (slot: { pcsc: Pcsc; reader: string; card(timeoutMs?: number): Promise<PcscLink> }) => Promise<T>,
  port = VPCD_DEFAULT_PORT,
): Promise<T> {
  const unlock = await lockVpcdSlot(port);
  let pcsc: Pcsc | null = null;
  try {
    pcsc = await Pcsc.open();
    const reader = await pcsc.waitForReader(vpcdReaderName(port));
    const p = pcsc;
    return await fn({
      pcsc: p,
      reader,
      card: async (timeoutMs = 20_000) => {
        await p.waitForCard(reader, timeoutMs);
        return p.link(reader);
      },
    });
  } finally {
    if (pcsc) {
      const reader = vpcdReaderName(port);
      if (pcsc.readers().includes(reader)) await pcsc.waitForCardRemoved(reader, 3000).catch(() => undefined);
      await pcsc.close();
    }
    unlock();
  }
}
