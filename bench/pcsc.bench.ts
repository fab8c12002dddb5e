/**
 * APDU round trip (SELECT PPSE, 20 bytes → 53 bytes) through the layers of the PC/SC path:
 *   in-memory (the card's process() through the bridge's ICC), the vpcd framing over loopback TCP without
 *   pcscd, and @pokusew/pcsclite → pcscd → vpcd → our bridge; then whole transactions with the phone through
 *   the stack beside the same in memory: metro-gate entry and exit taps (select to debit, and field on to
 *   outcome) against the 300 ms transit budget, a QuickPass payment approved online, a door opening.
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
import { Pcsc, type PcscLink } from "../src/nfc/pcsc.js";
import { pcscdSocketPath } from "../src/nfc/pcsc-native.js";
import { VpcdBridge } from "../src/nfc/vpcd.js";
import { ContactlessIcc } from "../src/nfc/vpcd-icc.js";
import { FrameDecoder, VPCD_READER_NAME, encodeFrame } from "../src/nfc/vpcd-protocol.js";
import { seededRandom } from "../src/se/testing/random.js";
import { TransitSandbox } from "../src/transit/sandbox.js";
import { MemoryFrameLink } from "../src/nfc/frame.js";
import type { Link } from "../src/nfc/link.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { PcscClassicReader, phoneFieldIcc } from "../src/mifare/storage-card.js";
import { doorFieldCard } from "../src/mifare/phone.js";
import { PpseTestCard, SELECT_PPSE } from "../test/pcsc-doubles.js";
import { phoneWorld } from "../test/pcsc-phone.js";
import { lockVpcdSlot, onVpcd } from "../test/pcsc-stack.js";
import type { Figure } from "./report.js";
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

interface TapRow {
  what: string;
  memory: Timing;
  stack: Timing;
  apdus?: number;
  budget?: string;
  /** Its row in `npm run bench`'s summary (bench/report.ts keys and tap types). */
  figure?: {
    tap: "transit-gate" | "compound-purchase" | "qpboc-online" | "qpboc-fdda" | "door-open";
    key: string;
  };
}
const taps: TapRow[] = [];

/**
 * Metro-gate taps on the phone's T-Union card, in memory and through the stack: `n` entries and `n` exits
 * (each exit closes the trip, so the next entry is a fresh one). Select to debit = `gate.tap` (every transit
 * APDU with the PSAM's MACs); field on to outcome adds SCardConnect and the reader's FF CA for UID and ATS.
 */
async function gateTaps(n: number): Promise<void> {
  const clock = new ManualClock("2026-03-02T00:30:00Z");
  const sb = new TransitSandbox({ clock, random: seededRandom(7) });
  const { aid } = sb.addCard("tu-jingjinji");
  if (!(await sb.topUp(aid, 500_00)).ok || !(await sb.topUp(aid, 500_00)).ok)
    throw new Error("top-up failed");
  const entry = sb.metroGate({ station: "0101", direction: "entry", recordExchanges: true });
  const exit = sb.metroGate({ station: "0112", direction: "exit", recordExchanges: true });
  const apdus = { entry: 0, exit: 0 };
  const run = async (link: Link, count: number) => {
    const t = {
      entry: [] as number[],
      exit: [] as number[],
      entryField: [] as number[],
      exitField: [] as number[],
    };
    for (let i = 0; i < count + 3; i++) {
      for (const [gate, kind] of [
        [entry, "entry"],
        [exit, "exit"],
      ] as const) {
        const s0 = performance.now();
        await link.fieldOn();
        const s1 = performance.now();
        const r = await gate.tap(link);
        const s2 = performance.now();
        await link.fieldOff();
        if (!r.ok) throw new Error(`gate refused: ${r.reason}`);
        apdus[kind] = r.exchanges.length;
        if (i >= 3) {
          t[kind].push((s2 - s1) * 1000);
          t[kind === "entry" ? "entryField" : "exitField"].push((s2 - s0) * 1000);
        }
        clock.advance(10 * 60_000);
      }
      // Each exit charges ¥5: top the purse back up (through the phone's own channel, not timed).
      if (i % 80 === 79 && !(await sb.topUp(aid, 400_00)).ok) throw new Error("top-up failed");
    }
    return t;
  };
  const mem = await run(new MemoryLink(sb.se), n * 3);
  const stack = await onVpcd(sb.se, ({ link }) => run(link, n), { link: { timeoutMs: 2000 } });
  taps.push(
    {
      what: "metro entry gate: select → debit",
      memory: summarise(mem.entry),
      stack: summarise(stack.entry),
      apdus: apdus.entry,
      budget: "300 ms (transit)",
      figure: { tap: "transit-gate", key: "t-union-entry" },
    },
    {
      what: "  … field on → outcome",
      memory: summarise(mem.entryField),
      stack: summarise(stack.entryField),
      budget: "300 ms (transit)",
    },
    {
      what: "metro exit gate (charge): select → debit",
      memory: summarise(mem.exit),
      stack: summarise(stack.exit),
      apdus: apdus.exit,
      budget: "300 ms (transit)",
      figure: { tap: "compound-purchase", key: "t-union-exit" },
    },
    {
      what: "  … field on → outcome",
      memory: summarise(mem.exitField),
      stack: summarise(stack.exitField),
      budget: "300 ms (transit)",
    },
  );
}

/** Counts the APDUs a terminal sends through `link` (the reader's own FF CA at field on not included). */
function counting(link: Link): { link: Link; sent: () => number } {
  let sent = 0;
  return {
    link: {
      get activation() {
        return link.activation;
      },
      fieldOn: () => link.fieldOn(),
      fieldOff: () => link.fieldOff(),
      transceive: (command) => {
        sent++;
        return link.transceive(command);
      },
    },
    sent: () => sent,
  };
}

/**
 * A QuickPass payment approved online by the local issuer host (ARQC, ARPC checked by the card), or with
 * `offline` approved by the card's fDDA under the floor limit.
 */
async function posPayments(n: number, offline = false): Promise<void> {
  const w = await phoneWorld();
  const pos = w.pos(offline ? { floorLimit: 300_00 } : {});
  const run = async (link: Link, count: number) => {
    const t: number[] = [];
    for (let i = 0; i < count + 3; i++) {
      const s0 = performance.now();
      const r = await pos.pay(link, 1_00);
      if (i >= 3) t.push((performance.now() - s0) * 1000);
      if (r.status !== "approved") throw new Error(`payment ${r.status}: ${r.reason.en}`);
      w.clock.advance(24 * 3_600_000); // one payment a day: under the issuer's daily count
    }
    return summarise(t);
  };
  const memory = await run(new MemoryLink(w.se), n);
  const c = counting(new MemoryLink(w.se));
  await run(c.link, 0); // three payments, to count their APDUs
  const stack = await onVpcd(phoneFieldIcc(w.se), ({ link }) => run(link, n), { link: { timeoutMs: 2000 } });
  taps.push({
    what: offline
      ? "QuickPass payment, offline (fDDA, READ RECORDs)"
      : "QuickPass payment, online (tap → issuer → ARPC)",
    memory,
    stack,
    apdus: c.sent() / 3,
    budget: "500 ms card interaction (qPBOC)",
    figure: offline ? { tap: "qpboc-fdda", key: "fdda" } : { tap: "qpboc-online", key: "issuer-arpc" },
  });
}

/** A door opening (sector mode: UID, authentication, credential block) on the phone's door card. */
async function doorOpens(n: number): Promise<void> {
  const w = await phoneWorld();
  w.useDoorCard(true);
  const door = w.door();
  const memTimes: number[] = [];
  for (let i = 0; i < n * 10 + 3; i++) {
    const s0 = performance.now();
    const d = await door.tap(new MemoryFrameLink(doorFieldCard(w.se)));
    if (i >= 3) memTimes.push((performance.now() - s0) * 1000);
    if (!d.granted) throw new Error(`door: ${d.outcome}`);
  }
  let apdus = 0;
  const stack = await onVpcd(phoneFieldIcc(w.se), async ({ link }: { link: PcscLink }) => {
    const c = counting(link);
    await door.tapVia(c.link, new PcscClassicReader(c.link));
    apdus = c.sent();
    const t: number[] = [];
    for (let i = 0; i < n + 3; i++) {
      const s0 = performance.now();
      const d = await door.tapVia(link, new PcscClassicReader(link));
      if (i >= 3) t.push((performance.now() - s0) * 1000);
      if (!d.granted) throw new Error(`door: ${d.outcome}`);
    }
    return summarise(t);
  });
  taps.push({
    what: "door opening (frames in memory; pseudo-APDUs via PC/SC)",
    memory: summarise(memTimes),
    stack,
    apdus,
    figure: { tap: "door-open", key: "door-sector" },
  });
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

export async function run(): Promise<Figure[]> {
  const icc = new ContactlessIcc(new PpseTestCard());
  icc.insert();
  row("in-memory: card.process via the bridge's ICC", await timeIt(() => icc.transmit(SELECT_PPSE), 20_000));
  row("vpcd framing over loopback TCP (no pcscd)", await rawFraming(5000));

  const stackUp = existsSync(pcscdSocketPath());
  const figures: Figure[] = [];
  if (!stackUp) {
    console.log("PC/SC stack absent (no pcscd): run sudo bash scripts/setup-pcsc.sh for the pcscd/vpcd rows");
    figures.push({
      kind: "unavailable",
      scope: "pcsc",
      reason: "no pcscd running (sudo bash scripts/setup-pcsc.sh)",
    });
  } else {
    // Holding vpcd's slot (test files take it too) while pcscd restarts and while we measure.
    const unlock = await lockVpcdSlot();
    const compare = process.getuid?.() === 0 && process.env.PCSC_BENCH_COMPARE !== "0";
    try {
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
    } finally {
      unlock();
    }
    await gateTaps(100);
    await posPayments(50);
    await posPayments(50, true);
    await doorOpens(100);
  }

  table(["path (SELECT PPSE)", "n", "p50 ms", "p99 ms", "APDU/s"], rows);
  if (taps.length > 0) {
    console.log(
      "\nwhole transactions with the phone, in memory and through pcsclite → pcscd → vpcd → bridge:\n",
    );
    const ms = (t: Timing) => `${fmt(t.p50 / 1000, 2)} / ${fmt(t.p99 / 1000, 2)}`;
    table(
      ["transaction", "APDUs", "in memory p50 / p99 ms", "through the stack p50 / p99 ms (n)", "budget"],
      taps.map((t) => [t.what, t.apdus ?? "", ms(t.memory), `${ms(t.stack)} (${t.stack.n})`, t.budget ?? ""]),
    );
  }
  for (const t of taps)
    if (t.figure)
      figures.push({
        kind: "tap",
        ...t.figure,
        label: t.what,
        transport: "pcsc",
        n: t.stack.n,
        p50Us: t.stack.p50,
        p99Us: t.stack.p99,
      });
  return figures;
}
