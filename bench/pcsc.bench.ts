/**
 * APDU round trip (SELECT PPSE, 20 bytes → 53 bytes) through the layers of the PC/SC path:
 *   in-memory (the card's process() through the bridge's ICC), the vpcd framing over loopback TCP without
 *   pcscd, and @pokusew/pcsclite → pcscd → vpcd → our bridge; plus a whole metro-gate tap through the stack
 *   against the 300 ms transit budget.
 * Run as root on a stack set up by scripts/setup-pcsc.sh, it also restarts pcscd to compare the stock
 * vpcd 0.8 (Nagle + delayed ACK), the stock vpcd with the loopback route's `quickack 1`, and our shim, then
 * leaves pcscd as the setup script starts it (with the shim). PCSC_BENCH_COMPARE=0 skips the restarts.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { ManualClock } from "../src/core/clock.js";
import { Pcsc } from "../src/nfc/pcsc.js";
import { pcscdSocketPath } from "../src/nfc/pcsc-native.js";
import { VpcdBridge } from "../src/nfc/vpcd.js";
import { ContactlessIcc } from "../src/nfc/vpcd-icc.js";
import { FrameDecoder, VPCD_READER_NAME, encodeFrame } from "../src/nfc/vpcd-protocol.js";
import { seededRandom } from "../src/se/testing/random.js";
import { TransitSandbox } from "../src/transit/sandbox.js";
import { PpseTestCard, SELECT_PPSE } from "../test/pcsc-doubles.js";
import { type Timing, fmt, summarise, table, timeIt } from "./stats.js";

const SETUP = fileURLToPath(new URL("../scripts/setup-pcsc.sh", import.meta.url));
const rows: (string | number)[][] = [];
const row = (path: string, t: Timing) =>
  rows.push([path, t.n, fmt(t.p50 / 1000, 3), fmt(t.p99 / 1000, 3), Math.round(1e6 / t.mean)]);

/** The bridge answering a stand-in vpcd over loopback: framing and TCP, no pcscd. */
async function rawFraming(n: number): Promise<Timing> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const accepted = new Promise<import("node:net").Socket>((r) => server.once("connection", r));
  const bridge = new VpcdBridge(new PpseTestCard(), { port: (server.address() as AddressInfo).port });
  await bridge.start();
  const s = await accepted;
  s.setNoDelay(true);
  const decoder = new FrameDecoder();
  let wake: (() => void) | null = null;
  let got = 0;
  s.on("data", (c) => {
    got += decoder.push(c).length;
    wake?.();
  });
  const frame = encodeFrame(SELECT_PPSE);
  const t = await timeIt(async () => {
    const want = got + 1;
    s.write(frame);
    while (got < want) await new Promise<void>((r) => (wake = r));
  }, n);
  await bridge.stop();
  await new Promise<void>((r) => server.close(() => r()));
  return t;
}

/** SELECT PPSE n times through pcsclite → pcscd → vpcd → bridge. */
async function throughStack(n: number): Promise<Timing> {
  const bridge = new VpcdBridge(new PpseTestCard());
  await bridge.start();
  const pcsc = await Pcsc.open();
  try {
    const reader = await pcsc.waitForReader(VPCD_READER_NAME);
    await pcsc.waitForCard(reader);
    const link = pcsc.link(reader, { timeoutMs: 2000 });
    await link.fieldOn();
    const t = await timeIt(() => link.transceive(SELECT_PPSE), n, Math.min(20, n));
    await link.fieldOff();
    return t;
  } finally {
    await bridge.stop();
    await pcsc.waitForCardRemoved(VPCD_READER_NAME, 3000).catch(() => undefined);
    await pcsc.close();
  }
}

/** A metro-gate entry tap on the phone's T-Union card through the stack (field on to outcome). */
async function gateTaps(n: number): Promise<{ timing: Timing; apdus: number }> {
  const clock = new ManualClock("2026-03-02T00:30:00Z");
  const sb = new TransitSandbox({ clock, random: seededRandom(7) });
  const { aid } = sb.addCard("tu-jingjinji");
  if (!(await sb.topUp(aid, 100_000)).ok) throw new Error("top-up failed");
  const entry = sb.metroGate({ station: "0101", direction: "entry", recordExchanges: true });
  const exit = sb.metroGate({ station: "0112", direction: "exit" });
  const bridge = new VpcdBridge(sb.se);
  await bridge.start();
  const pcsc = await Pcsc.open();
  const times: number[] = [];
  let apdus = 0;
  try {
    const reader = await pcsc.waitForReader(VPCD_READER_NAME);
    await pcsc.waitForCard(reader);
    const link = pcsc.link(reader, { timeoutMs: 2000 });
    const warmup = 3;
    for (let i = 0; i < n + warmup; i++) {
      const s = performance.now();
      await link.fieldOn();
      const r = await entry.tap(link);
      if (i >= warmup) times.push((performance.now() - s) * 1000);
      if (!r.ok) throw new Error(`gate refused: ${r.reason}`);
      apdus = r.exchanges?.length ?? apdus;
      await link.fieldOff();
      clock.advance(10 * 60_000);
      await link.fieldOn();
      await exit.tap(link); // close the trip so that the next entry is a fresh one
      await link.fieldOff();
      clock.advance(10 * 60_000);
    }
  } finally {
    await bridge.stop();
    await pcsc.waitForCardRemoved(VPCD_READER_NAME, 3000).catch(() => undefined);
    await pcsc.close();
  }
  return { timing: summarise(times), apdus };
}

function setup(...args: string[]): void {
  execFileSync("bash", [SETUP, ...args], { stdio: "ignore" });
}

/** Toggles `quickack 1` on the loopback host route (the vicc's kernel then ACKs at once). */
function loopbackQuickack(on: boolean): boolean {
  const base = ["route", "change", "local", "127.0.0.1", "dev", "lo", "table", "local", "proto", "kernel"];
  try {
    execFileSync("ip", [...base, "scope", "host", "src", "127.0.0.1", ...(on ? ["quickack", "1"] : [])], {
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  }
}

export async function run(): Promise<void> {
  const icc = new ContactlessIcc(new PpseTestCard());
  icc.insert();
  row("in-memory: card.process via the bridge's ICC", await timeIt(() => icc.transmit(SELECT_PPSE), 20_000));
  row("vpcd framing over loopback TCP (no pcscd)", await rawFraming(5000));

  const stackUp = existsSync(pcscdSocketPath());
  let gate: { timing: Timing; apdus: number } | null = null;
  if (!stackUp) {
    console.log("PC/SC stack absent (no pcscd): run sudo bash scripts/setup-pcsc.sh for the pcscd/vpcd rows");
  } else {
    const compare = process.getuid?.() === 0 && process.env.PCSC_BENCH_COMPARE !== "0";
    if (compare) {
      try {
        setup("--no-shim");
        row("pcsclite → pcscd → stock vpcd 0.8 (Nagle)", await throughStack(100));
        if (loopbackQuickack(true)) {
          try {
            row("  … with loopback route quickack 1", await throughStack(1000));
          } finally {
            loopbackQuickack(false);
          }
        }
      } finally {
        setup(); // back to the shim
      }
    }
    row(
      `pcsclite → pcscd → vpcd${compare ? " + our nodelay shim" : " (as running)"}`,
      await throughStack(5000),
    );
    gate = await gateTaps(30);
  }

  table(["path (SELECT PPSE)", "n", "p50 ms", "p99 ms", "APDU/s"], rows);
  if (gate) {
    const { timing, apdus } = gate;
    console.log(
      `\nmetro gate entry tap through pcscd + vpcd (${apdus} APDUs, field on to outcome, n=${timing.n}): ` +
        `p50 ${fmt(timing.p50 / 1000, 2)} ms, p99 ${fmt(timing.p99 / 1000, 2)} ms — transit budget 300 ms`,
    );
  }
}
