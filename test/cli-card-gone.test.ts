/**
 * The terminal commands when the card leaves: `read`, `gate`, `pos` and `door open` over `--pcsc` (a stand-in
 * @pokusew/pcsclite in front of the phone of test/pcsc-phone.ts), the card pulled away after every possible
 * number of APDUs, and no card at all. Nothing escapes but a `TapwalletError` the CLI prints in zh-CN and
 * English (JSON with --json) with a non-zero exit, or the terminal's own "tap again" outcome.
 */
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../src/core/bytes.js";
import { isTapwalletError } from "../src/core/errors.js";
import { type GateOptions, gateCommand } from "../src/cli/commands/gate.js";
import { doorOpen } from "../src/cli/commands/phone.js";
import { posCommand } from "../src/cli/commands/pos.js";
import { readCommand } from "../src/cli/commands/read.js";
import { errorReport } from "../src/cli/errors.js";
import { phoneFieldIcc } from "../src/mifare/storage-card.js";
import type { PcscSessionOptions } from "../src/nfc/pcsc-session.js";
import type { TapOutcome } from "../src/transit/terminal/gate.js";
import { FakePcsc, FakeReader } from "./pcsc-doubles.js";
import { DOOR_CREDENTIAL, DOOR_KEY, phoneWorld } from "./pcsc-phone.js";

type Icc = ReturnType<typeof phoneFieldIcc>;

/**
 * A reader holding `icc` that answers `answered` APDUs (the reader's own FF CA included), then reports the
 * card removed (pcsclite's SCARD_W_REMOVED_CARD); `icc: null` = a reader without a card.
 */
function reader(icc: Icc | null, answered = Infinity): Partial<PcscSessionOptions> & { count: () => number } {
  const native = new FakePcsc();
  const r = new FakeReader("ACS ACR122U PICC Interface 00 00");
  let n = 0;
  r.answer = (command) => {
    if (!icc || n >= answered) return { error: "SCardTransmit error: Card was removed.(0x80100069)" };
    n++;
    return { data: toHex(icc.transmit(fromHex(command))) };
  };
  setImmediate(() => {
    native.emit("reader", r);
    if (!icc) return;
    icc.insert();
    icc.powerOn();
    setImmediate(() => r.insert(toHex(icc.atr())));
  });
  return {
    factory: () => native,
    skipServiceCheck: true,
    say: () => {},
    cardTimeoutMs: icc ? 2000 : 30,
    count: () => n,
  };
}

/** The error a command rejects with, as the CLI reports it with --json. */
async function reported(run: Promise<unknown>) {
  const e = await run.then(
    () => null,
    (x: unknown) => x,
  );
  expect(isTapwalletError(e), String(e)).toBe(true);
  const r = errorReport(e, true);
  return { ...r, json: JSON.parse(r.stdout!) as { error: string; message: { zh: string; en: string } } };
}

const CARD_GONE = {
  error: "card_gone",
  message: {
    zh: expect.stringContaining("卡片已离开感应区"),
    en: expect.stringContaining("card left the field"),
  },
};

/** Runs `tap` once without interruption to count its APDUs, then once for every point the card can leave. */
async function everyRemoval(
  fresh: () => Promise<Icc>,
  tap: (session: Partial<PcscSessionOptions>) => Promise<void>,
) {
  const full = reader(await fresh());
  await tap(full);
  const total = full.count();
  expect(total).toBeGreaterThan(2);
  for (let k = 0; k < total; k++) await tap(reader(await fresh(), k));
}

describe("a card that leaves the field mid-tap (--pcsc)", () => {
  it("read: card_gone in zh and en, exit 2, a JSON error with --json — whenever the card leaves", async () => {
    const w = await phoneWorld();
    let first = true;
    await everyRemoval(
      async () => phoneFieldIcc(w.se),
      async (session) => {
        const run = readCommand({ pcsc: true, json: true }, session);
        if (first) {
          first = false;
          expect(JSON.parse(await run)).toMatchObject({ system: "t-union" });
          return;
        }
        const r = await reported(run);
        expect(r.json).toEqual(CARD_GONE);
        expect(r.exitCode).toBe(2);
        expect(r.stderr).toMatch(/^错误 \/ error: 卡片已离开感应区.* \/ the card left the field/);
      },
    );
  });

  it("gate: the gate's own refusal (please tap again), never an error — whenever the card leaves", async () => {
    const w = await phoneWorld();
    await w.topUp(50_00);
    const o: GateOptions = { entry: true, station: "0101", pcsc: true, json: true };
    let first = true;
    await everyRemoval(
      async () => phoneFieldIcc(w.se),
      async (session) => {
        const printed: TapOutcome[] = [];
        await gateCommand(o, (r) => printed.push(r), session);
        expect(printed).toHaveLength(1);
        if (first) {
          first = false;
          expect(printed[0]).toMatchObject({ ok: true, kind: "metro-entry" });
          return;
        }
        // A debit the card may have taken before it left is "torn" (settled at its next tap).
        expect(printed[0]).toMatchObject({ ok: false, reason: expect.stringMatching(/^(card_gone|torn)$/) });
        expect(printed[0]!.ok === false && printed[0]!.message.en).toMatch(/tap again/);
      },
    );
  });

  it("pos: try again (读卡中断，请重新挥卡), never an error — whenever the card leaves", async () => {
    const w = await phoneWorld();
    let first = true;
    await everyRemoval(
      async () => phoneFieldIcc(w.se),
      async (session) => {
        const run = await posCommand({ amount: "1.00", pcsc: true, json: true }, session);
        if (first) {
          first = false;
          expect(run.result.status).not.toBe("try-again");
          return;
        }
        expect(run.result.status).toBe("try-again");
        expect(run.text).toContain("读卡中断，请重新挥卡");
      },
    );
  });

  it("door open: card_gone in zh and en, exit 2 — whenever the card leaves", async () => {
    const w = await phoneWorld();
    w.useDoorCard(true);
    const o = { pcsc: true, reader: "sector", key: toHex(DOOR_KEY), credential: [toHex(DOOR_CREDENTIAL)] };
    let first = true;
    await everyRemoval(
      async () => phoneFieldIcc(w.se),
      async (session) => {
        if (first) {
          first = false;
          expect(await doorOpen(o, session)).toContain("door opened");
          return;
        }
        const r = await reported(doorOpen(o, session));
        expect(r.json).toEqual(CARD_GONE);
        expect(r.exitCode).toBe(2);
      },
    );
  });
});

describe("no card on the reader (--pcsc)", () => {
  it("read, gate, pos and door open all stop with pcsc_no_card in zh and en, exit 2", async () => {
    const runs = [
      readCommand({ pcsc: true, json: true }, reader(null)),
      gateCommand({ entry: true, station: "0101", pcsc: true }, () => {}, reader(null)),
      posCommand({ amount: "1.00", pcsc: true }, reader(null)),
      doorOpen({ pcsc: true, reader: "uid", uid: ["01020304"] }, reader(null)),
    ];
    for (const run of runs) {
      const r = await reported(run);
      expect(r.json).toEqual({
        error: "pcsc_no_card",
        message: {
          zh: "读卡器「ACS ACR122U PICC Interface 00 00」上 30 毫秒内没有卡片",
          en: 'no card on "ACS ACR122U PICC Interface 00 00" within 30 ms',
        },
      });
      expect(r.exitCode).toBe(2);
    }
  });
});

describe("the CLI's error report", () => {
  it("prints what was wrong, never a stack trace; JSON only with --json", () => {
    const plain = errorReport(new Error("boom"), false);
    expect(plain).toEqual({ stderr: "错误 / error: boom\n", exitCode: 1 });
    expect(JSON.parse(errorReport(new Error("boom"), true).stdout!)).toEqual({
      error: "internal",
      message: { zh: "内部错误", en: "boom" },
    });
  });
});
