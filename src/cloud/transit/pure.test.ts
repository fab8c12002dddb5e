/**
 * The transit service's pure parts: the phone's answers parsed without trusting them (property: any input,
 * never a throw), gate timestamps, the calendar the Shenzhen Tong rule and the month's spend count in, the
 * card × model rule, the commands the cloud asks the card to run, and the issuer key configuration.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../core/apdu.js";
import { fromHex } from "../../core/bytes.js";
import { getProduct } from "../../transit/index.js";
import { cardOps, parseAnswers } from "./card-commands.js";
import { occurredAt } from "./clearing.js";
import { TRANSIT_KEY_SEED_ENV, transitKeysFromEnv } from "./keys.js";
import { T_UNION_MODELS, chinaMonthStart, chinaYear, chinaYearStart, modelSupports } from "./rules.js";

describe("the phone's answers", () => {
  it("splits data and status word, and drops what is not an APDU answer", () => {
    expect(
      parseAnswers([
        { type: "apdu", response: "0102039000" },
        { type: "apdu", response: "6A80" },
        { type: "apdu", response: "" },
        { type: "apdu", response: "zz" },
        { type: "registry", ok: true },
      ]),
    ).toEqual([
      { data: Uint8Array.of(1, 2, 3), sw: 0x9000 },
      { data: new Uint8Array(0), sw: 0x6a80 },
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("never throws on anything the phone sends (property)", () => {
    const result = fc.oneof(
      fc.record({ type: fc.constant("apdu" as const), response: fc.string({ maxLength: 40 }) }),
      fc.record({
        type: fc.constant("apdu" as const),
        response: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString("hex")),
      }),
      fc.record({ type: fc.constant("registry" as const), ok: fc.boolean() }),
    );
    fc.assert(
      fc.property(fc.array(result, { maxLength: 20 }), (results) => {
        const parsed = parseAnswers(results);
        expect(parsed).toHaveLength(results.length);
        for (const p of parsed) if (p) expect(p.sw).toBeLessThanOrEqual(0xffff);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("the commands asked of the card", () => {
  it("are well-formed APDUs: SELECT, GET TRANSACTION PROVE, READ RECORD, INITIALIZE FOR LOAD and PURCHASE, CREDIT", () => {
    const terminal = fromHex("000112345678");
    const ops = [
      cardOps.select("A00000063201010510009156000014A1"),
      cardOps.proveLoad(7),
      cardOps.readRecord(3),
      cardOps.initPurchase(terminal),
      cardOps.initLoad(5000, terminal, false),
      cardOps.initLoad(1, terminal, true),
      cardOps.credit(fromHex("20260301"), fromHex("080000"), fromHex("11223344")),
    ];
    for (const op of ops) expect(parseCommand(fromHex(op.apdu)).ok).toBe(true);
    expect(ops.map((o) => o.apdu)).toEqual([
      "00A4040010A00000063201010510009156000014A100",
      "805A0002020007" + "08",
      "00B203C400",
      "805001020B0100000000000112345678" + "0F",
      "805000020B0100001388000112345678" + "10",
      "805000020B0100000001000112345678" + "10",
      "805200000B2026030108000011223344" + "04",
    ]);
    expect(ops[1]!.expect).toEqual(["9000", "9406"]);
    expect(ops[4]!.expect).toEqual(["9000"]);
    expect(ops[5]!.expect).toEqual(["9000", "6A80"]);
  });
});

describe("time", () => {
  it("reads a gate's BCD date and time as China time, and refuses what is not one", () => {
    expect(new Date(occurredAt("20260301", "083000")!).toISOString()).toBe("2026-03-01T00:30:00.000Z");
    expect(occurredAt("2026030", "083000")).toBeNull();
    expect(occurredAt("2026AB01", "083000")).toBeNull();
    expect(occurredAt("20260301", "08300")).toBeNull();
  });

  it("never throws on arbitrary date and time strings (property)", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.string({ maxLength: 8 }), (d, t) => {
        const at = occurredAt(d, t);
        expect(at === null || Number.isFinite(at)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("counts calendar months and years in China time", () => {
    // 2026-12-31T16:30Z is already 2027-01-01 00:30 in Beijing.
    const ny = Date.parse("2026-12-31T16:30:00Z");
    expect(chinaYear(ny)).toBe(2027);
    expect(new Date(chinaYearStart(ny)).toISOString()).toBe("2026-12-31T16:00:00.000Z");
    expect(new Date(chinaMonthStart(Date.parse("2026-03-15T03:00:00Z"))).toISOString()).toBe(
      "2026-02-28T16:00:00.000Z",
    );
  });
});

describe("card × model", () => {
  it("T-Union cards on the 2017 models and later; city cards on all", () => {
    const tu = getProduct("tu-jingjinji")!;
    const city = getProduct("shanghai")!;
    expect(modelSupports("gemini", tu)).toBe(false);
    expect(modelSupports("gemini", city)).toBe(true);
    for (const m of T_UNION_MODELS) expect(modelSupports(m, tu)).toBe(true);
    expect(T_UNION_MODELS.size).toBe(8);
  });
});

describe("issuer keys from the environment", () => {
  it("uses the public development seed outside production only", () => {
    expect(transitKeysFromEnv({}).development).toBe(true);
    expect(() => transitKeysFromEnv({ NODE_ENV: "production" })).toThrow(TRANSIT_KEY_SEED_ENV);
    expect(() => transitKeysFromEnv({ [TRANSIT_KEY_SEED_ENV]: "short" })).toThrow(/32/);
    const seeded = transitKeysFromEnv({ NODE_ENV: "production", [TRANSIT_KEY_SEED_ENV]: "x".repeat(40) });
    expect(seeded.development).toBe(false);
    const p = getProduct("tu-jingjinji")!;
    // Another seed, other keys; the same seed, the same keys (memoised per product).
    expect(seeded.masterKeys(p, "3des").mlk).not.toEqual(transitKeysFromEnv({}).masterKeys(p, "3des").mlk);
    expect(seeded.masterKeys(p, "3des")).toBe(seeded.masterKeys(p, "3des"));
    expect(seeded.tacKey(getProduct("tu-jilin")!, "3des").mtk).toEqual(seeded.tacKey(p, "3des").mtk);
    expect(seeded.tacKey(getProduct("shanghai")!, "3des").groupFactor).toBeDefined();
  });
});
