import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../core/apdu.js";
import { fromHex, toHex } from "../core/bytes.js";
import { ManualClock } from "../core/clock.js";
import type { AppletContext } from "./applet.js";
import { FileSystem } from "./files.js";
import { Nvm, Transaction, appletStore } from "./store.js";
import { seededRandom } from "./testing/random.js";
import { sampleFileTree } from "./testing/sample-applets.js";

/**
 * The sample tree: MF 3F00 { EF 0005 (8 B, read-only), DF 1001 "A00000000386980701" { EF 0015 SFI 15
 * transparent 30 B; EF 0018 SFI 18 cyclic 3 × 23 B; EF 0019 SFI 19 linear fixed 2 × 4 B (01000000,
 * 02000000); SFI 1A linear variable ≤ 8 B, 2 records, not readable } }.
 */
function harness(nvm = new Nvm()) {
  const tree = sampleFileTree();
  const fs = new FileSystem(tree.root);
  const ctx = (txn: Transaction): AppletContext => ({
    store: appletStore(txn, "app"),
    clock: new ManualClock(),
    host: { locked: () => false, lastUserVerification: () => null },
    random: seededRandom(3),
    selectedAid: fromHex("A00000000386980701"),
  });
  const run = (...apdus: string[]) =>
    apdus.map((hex) => {
      const c = parseCommand(fromHex(hex));
      if (!c.ok) throw new Error(c.error.reason);
      const txn = new Transaction(nvm);
      const r = fs.handle(c.value, ctx(txn));
      txn.commit();
      return r ? toHex(r.data) + r.sw.toString(16).toUpperCase().padStart(4, "0") : "unhandled";
    });
  const withCtx = <T>(fn: (c: AppletContext) => T): T => {
    const txn = new Transaction(nvm);
    const out = fn(ctx(txn));
    txn.commit();
    return out;
  };
  return { fs, tree, run, withCtx, nvm };
}

const ADF_FCI = "6F0B8409A000000003869807019000";
const MF_FCI = "6F0483023F009000";
const rec = (b: number) => b.toString(16).padStart(2, "0").toUpperCase().repeat(23);

describe("FileSystem SELECT", () => {
  it("selects the MF, DFs and EFs by FID, path and DF name, answering FCI or FCP", () => {
    const h = harness();
    expect(
      h.run(
        "00A4000000", // MF (P1 00, no data)
        "00A40000021001", // DF 1001 by FID from the MF
        "00A40200020015", // EF under the current DF
        "00A4030000", // parent DF
        "00A40100021001", // child DF
        "00A408000410010018", // path from the MF
        "00A40900020019", // path from the current DF (1001)
        "00A4040007A0000000038698", // DF name, partial
        "00A4040005A0000000FF", // DF name that is not there
        "00A40004021001", // FCP of a DF
        "00A4000C020015", // no response data
        "00A40008020015", // FMD
      ),
    ).toEqual([
      MF_FCI,
      ADF_FCI,
      "620E8002001E820101830200158801A89000",
      MF_FCI,
      ADF_FCI,
      "620E820506210017008302001888 01C09000".replace(" ", ""),
      "620E820502210004028302001988 01C89000".replace(" ", ""),
      ADF_FCI,
      "6A82",
      "6212820138830210018409A000000003869807019000",
      "9000",
      "64009000",
    ]);
  });

  it("finds siblings and the parent by FID, refuses bad parameters", () => {
    const h = harness();
    expect(h.run("00A40000020018", "00A40000020015", "00A40000020005", "00A40000023F00")).toEqual([
      "6A82", // 0018 is not visible from the MF
      "6A82",
      "620B80020008820101830200059000",
      MF_FCI,
    ]);
    expect(h.run("00A40000021001", "00A40000020018")[1]).toMatch(/^620E/);
    // from EF 0018 (current DF 1001), the MF's EF 0005 is a sibling of the parent
    expect(h.run("00A40000020005")).toEqual(["620B80020008820101830200059000"]);
    expect(h.run("00A4050000", "00A40000011F", "00A4080003100100", "00A4000102", "00A40300021001")).toEqual([
      "6A86",
      "6A80",
      "6A80",
      "6A86",
      "6A80",
    ]);
  });
});

describe("FileSystem binary files", () => {
  it("reads by SFI and offset with the Le rules", () => {
    const h = harness();
    h.run("00A40000021001");
    expect(h.run("00B0950000")).toEqual(["00".repeat(30) + "9000"]);
    expect(h.run("00D6950004AABBCCDD", "00B0950004", "00B0950102", "00B0951C04", "00B0951E00")).toEqual([
      "9000",
      "AABBCCDD9000",
      "BBCC9000",
      "00006282", // 2 bytes left of the 4 asked
      "6B00",
    ]);
  });

  it("writes through the current EF, within the file and only where allowed", () => {
    const h = harness();
    expect(
      h.run("00A40000021001", "00A40200020015", "00D6000202CCDD", "00B0000004", "00D6001D02AABB"),
    ).toEqual([ADF_FCI, "620E8002001E820101830200158801A89000", "9000", "0000CCDD9000", "6700"]);
    expect(h.run("00A4000000", "00A40000020005", "00D6000001FF", "00B0000000").slice(1)).toEqual([
      "620B80020008820101830200059000",
      "6982",
      "01020304050607089000",
    ]);
  });

  it("answers 6986 without a current EF, 6A82 for an unknown SFI, 6981 across structures", () => {
    const h = harness();
    h.run("00A40000021001");
    expect(h.run("00B0000000", "00B0870000", "00B0980000", "00B201AC00", "00D6E00001FF")).toEqual([
      "6986",
      "6A82",
      "6981", // SFI 18 is a record file
      "6981", // SFI 15 is transparent
      "6A86", // SFI byte with b7-b6 set
    ]);
  });
});

describe("FileSystem record files", () => {
  it("reads linear fixed records by number and identifier, with 6C for a short Le", () => {
    const h = harness();
    h.run("00A40000021001");
    expect(h.run("00B201CC00", "00B202CC00", "00B203CC00", "00B202C800", "00B201CC02", "00B200CC00")).toEqual(
      [
        "010000009000",
        "020000009000",
        "6A83",
        "020000009000", // first record whose first byte is 02
        "6C04",
        "020000009000", // P1 00 = the current record (the last one read)
      ],
    );
  });

  it("updates fixed records in place and refuses wrong lengths and a full linear file", () => {
    const h = harness();
    h.run("00A40000021001");
    expect(
      h.run("00DC02CC0405060708", "00B202CC00", "00DC02CC020102", "00E200C80401020304", "00DC03CC0401020304"),
    ).toEqual(["9000", "050607089000", "6700", "6A84", "6A83"]);
  });

  it("keeps the newest record first in a cyclic file and drops the oldest", () => {
    const h = harness();
    h.run("00A40000021001");
    for (const b of [1, 2, 3, 4]) expect(h.run(`00E200C017${rec(b)}`)).toEqual(["9000"]);
    expect(h.run("00B201C400", "00B202C400", "00B203C400", "00B204C400")).toEqual([
      rec(4) + "9000",
      rec(3) + "9000",
      rec(2) + "9000",
      "6A83",
    ]);
    // UPDATE RECORD "previous" on a cyclic file writes a new record 1
    expect(h.run(`00DC00C317${rec(5)}`, "00B201C400", "00B203C400")).toEqual([
      "9000",
      rec(5) + "9000",
      rec(3) + "9000",
    ]);
  });

  it("applies access rules: a write-only log, lengths of a variable-length file", () => {
    const h = harness();
    h.run("00A40000021001");
    expect(h.run("00E200D003010203", "00B201D400", "00E200D009010203040506070809", "00E201D00101")).toEqual([
      "9000",
      "6982",
      "6700",
      "6A86",
    ]);
    expect(h.withCtx((c) => h.fs.records(c, h.tree.ef1a).map(toHex))).toEqual(["010203"]);
  });

  it("leaves other commands to the applet", () => {
    const h = harness();
    expect(h.run("80CA000000", "04B0950000", "0084000008")).toEqual(["unhandled", "unhandled", "unhandled"]);
  });
});

describe("FileSystem persistence and programmatic access", () => {
  it("keeps contents in the applet store, so a new applet object sees them", () => {
    const nvm = new Nvm();
    const h1 = harness(nvm);
    h1.run("00A40000021001", "00D6950003112233", `00E200C017${rec(9)}`);
    const h2 = harness(nvm);
    expect(h2.run("00A40000021001", "00B0950003", "00B201C400").slice(1)).toEqual([
      "1122339000",
      rec(9) + "9000",
    ]);
    expect(Object.keys(nvm.snapshot().app!).sort()).toEqual(["fs:3F00/1001/0015", "fs:3F00/1001/0018"]);
  });

  it("offers the same operations to the applet's own commands, without access checks", () => {
    const h = harness();
    h.withCtx((c) => {
      expect(h.fs.write(c, h.tree.ef15, 0, fromHex("0A0B"))).toBe(0x9000);
      expect(h.fs.appendRecord(c, h.tree.ef1a, fromHex("AA"))).toBe(0x9000);
      expect(h.fs.appendRecord(c, h.tree.ef1a, fromHex("BB"))).toBe(0x9000);
      expect(h.fs.appendRecord(c, h.tree.ef1a, fromHex("CC"))).toBe(0x6a84);
      expect(h.fs.updateRecord(c, h.tree.ef19, 1, fromHex("09090909"))).toBe(0x9000);
      expect(h.fs.write(c, h.tree.ef18, 0, fromHex("00"))).toBe(0x6981);
    });
    h.withCtx((c) => {
      expect(toHex(h.fs.read(c, h.tree.ef15).subarray(0, 3))).toBe("0A0B00");
      expect(h.fs.records(c, h.tree.ef1a).map(toHex)).toEqual(["AA", "BB"]);
      expect(toHex(h.fs.readRecord(c, h.tree.ef19, 1)!)).toBe("09090909");
      expect(h.fs.efBySfi(0x18, h.tree.adf)).toBe(h.tree.ef18);
    });
  });

  it("rejects malformed trees", () => {
    const ef = { kind: "ef" as const, structure: "transparent" as const, size: 1 };
    expect(() => new FileSystem({ kind: "df", fid: 0x3f00, children: [ef] })).toThrow(RangeError);
    const twice = { kind: "ef" as const, fid: 1, structure: "transparent" as const, size: 1 };
    expect(() => new FileSystem({ kind: "df", fid: 0x3f00, children: [twice, twice] })).toThrow(RangeError);
  });

  it("answers every file command with a status word and never throws (property)", () => {
    const h = harness();
    const command = fc.record({
      cla: fc.constantFrom(0x00, 0x00, 0x04, 0x80),
      ins: fc.constantFrom(0xa4, 0xb0, 0xd6, 0xb2, 0xdc, 0xe2, 0xca),
      p1: fc.integer({ min: 0, max: 255 }),
      p2: fc.integer({ min: 0, max: 255 }),
      data: fc.uint8Array({ maxLength: 40 }),
      ne: fc.option(fc.integer({ min: 1, max: 256 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(command, { maxLength: 8 }), (cmds) => {
        for (const c of cmds)
          h.withCtx((ctx) => {
            const r = h.fs.handle(c.ne === undefined ? { ...c, ne: undefined } : c, ctx);
            if (r) {
              expect(r.sw >> 8 === 0x90 || r.sw >> 12 === 6).toBe(true);
              expect(r.data).toBeInstanceOf(Uint8Array);
            }
          });
      }),
      { numRuns: 2000 },
    );
  });
});
