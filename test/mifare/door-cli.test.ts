/**
 * Door-card dumps on disk and the `tapwallet door` command. The fixtures in test/fixtures/mifare were written
 * by our own exporter (a blank 1K card of our own: UID 5A17E3C0, manufacturer data 6263646566676869), so this
 * also pins the exporter's output byte for byte. The published blank-card examples (proxmark3's
 * traces/mifare/s50-empty in four formats, in ../shared/reference/vectors/mifare/formats) are read in place.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fromHex } from "../../src/core/bytes.js";
import { isTapwalletError } from "../../src/core/errors.js";
import { blankCard, cardsEqual } from "../../src/mifare/card.js";
import { type DumpFormat, exportDump } from "../../src/mifare/formats/index.js";
import { convertDump, inspectDump, loadDump } from "../../src/cli/commands/door.js";

const dir = join(import.meta.dirname, "../fixtures/mifare");
const fixture = (name: string) => join(dir, name);
const blank = blankCard({ type: "1k", uid: fromHex("5A17E3C0"), manufacturer: fromHex("6263646566676869") });
const BLANK_FILES = [
  "blank-1k.json",
  "blank-1k.bin",
  "blank-1k.mfd",
  "blank-1k.eml",
  "blank-1k.mct",
  "blank-1k.nfc",
  "blank-1k.v3.nfc",
  "blank-1k.v2.nfc",
];
const work = mkdtempSync(join(tmpdir(), "tapwallet-door-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function thrown(fn: () => unknown) {
  try {
    fn();
  } catch (e) {
    if (isTapwalletError(e)) return e;
    throw e;
  }
  throw new Error("expected an error");
}

describe("the blank card loads identically from each format", () => {
  it.each(BLANK_FILES)("%s", (name) => {
    const dump = loadDump(fixture(name));
    expect(cardsEqual(dump.card, blank)).toBe(true);
    expect(dump.warnings).toEqual([]);
  });

  it("our exporter still writes these files byte for byte", () => {
    const versions: Record<string, 2 | 3 | 4> = {
      "blank-1k.nfc": 4,
      "blank-1k.v3.nfc": 3,
      "blank-1k.v2.nfc": 2,
    };
    for (const name of BLANK_FILES) {
      const format = (name.endsWith(".mfd") ? "bin" : name.split(".").pop()) as DumpFormat;
      const r = exportDump(blank, format, { nfcVersion: versions[name] ?? 4 });
      expect(r.ok && Buffer.from(r.value.bytes).equals(readFileSync(fixture(name)))).toBe(true);
    }
  });
});

// The published examples are not copied into the project; CI has ../shared beside the checkout.
const published = join(import.meta.dirname, "../../../shared/reference/vectors/mifare/formats");
const havePublished = existsSync(published);

describe.skipIf(!havePublished && !process.env.CI)(
  "the published blank S50 card (proxmark3 s50-empty)",
  () => {
    const s50 = blankCard({
      type: "1k",
      uid: fromHex("01A062BD"),
      manufacturer: fromHex("011B8CC2D5107E1D"),
    });
    it.each(["pm3_s50-empty.json", "pm3_s50-empty.eml", "pm3_s50-empty.mct", "pm3_s50-empty.nfc"])(
      "%s loads identically",
      (name) => {
        const dump = loadDump(join(published, name));
        expect(cardsEqual(dump.card, s50)).toBe(true);
      },
    );
  },
);

describe("door inspect", () => {
  it("prints the issue's JSON shape", () => {
    const j = inspectDump(loadDump(fixture("blank-1k.nfc")));
    expect(Object.keys(j)).toEqual([
      "format",
      "type",
      "uid",
      "sak",
      "atqa",
      "sectors",
      "emulatable",
      "reasons",
    ]);
    expect(j).toMatchObject({
      format: "nfc",
      type: "1k",
      uid: "5A17E3C0",
      sak: "08",
      atqa: "0004",
      emulatable: true,
      reasons: [],
    });
    expect(j.sectors).toHaveLength(16);
    expect(j.sectors[0]).toEqual({
      index: 0,
      keyA: "FFFFFFFFFFFF",
      keyB: "FFFFFFFFFFFF",
      accessBitsValid: true,
    });
  });

  it("a card with a non-default key is refused, naming sector 3 in zh-CN and English", () => {
    const j = inspectDump(loadDump(fixture("encrypted-sector3.json")));
    expect(j.emulatable).toBe(false);
    expect(j.reasons).toEqual([
      "扇区 3：密钥不是默认密钥（加密扇区） / sector 3: no default key opens it (encrypted sector)",
    ]);
    expect(j.sectors[3]).toMatchObject({ keyA: "5A1B3C7D9E0F" });
  });

  it("Mini, 7-byte 4K with unread sectors (Flipper v2, ATQA LSB first), UID-only, MAD transit", () => {
    expect(inspectDump(loadDump(fixture("mini.json")))).toMatchObject({
      type: "mini",
      sak: "09",
      emulatable: true,
    });
    const partial = inspectDump(loadDump(fixture("4k-7byte-partial.v2.nfc")));
    expect(partial).toMatchObject({ type: "4k", uid: "04112233445566", atqa: "0042", emulatable: false });
    expect(partial.sectors[20]).toEqual({ index: 20, keyA: null, keyB: null, accessBitsValid: false });
    expect(partial.reasons).toHaveLength(20);
    expect(inspectDump(loadDump(fixture("uid-only.nfc")))).toMatchObject({ sectors: [], emulatable: true });
    expect(inspectDump(loadDump(fixture("transit-mad.mct"))).reasons[0]).toContain(
      "sector 1: the MAD lists a transit application",
    );
  });

  it.each([
    ["bad-truncated.bin", "truncated"],
    ["bad-oversized.bin", "oversized"],
    ["bad-garbage.json", "bad_json"],
    ["bad-block.json", "bad_block"],
    ["bad-bcc.eml", "bad_bcc"],
    ["no-such-file.bin", "file_unreadable"],
  ])("%s → a clear error (%s)", (name, code) => {
    const e = thrown(() => loadDump(fixture(name)));
    expect(e.code).toBe(code);
    expect(e.zh).toContain(name);
    expect(e.en).toContain(name);
  });
});

describe("door convert", () => {
  it("converts every format to every other and back unchanged", () => {
    const formats: DumpFormat[] = ["json", "bin", "eml", "mct", "nfc"];
    for (const from of formats) {
      const src = fixture(from === "bin" ? "blank-1k.bin" : `blank-1k.${from}`);
      for (const to of formats) {
        const mid = join(work, `mid-${from}-${to}.${to}`);
        const back = join(work, `back-${from}-${to}.${from}`);
        expect(convertDump(src, to, mid)).toEqual([]);
        convertDump(mid, from, back);
        expect(readFileSync(back).equals(readFileSync(src))).toBe(true);
      }
    }
  });

  it("warns when the target cannot hold unknown bytes", () => {
    const warnings = convertDump(fixture("4k-7byte-partial.v2.nfc"), "bin", join(work, "partial.bin"));
    expect(warnings.map((w) => w.code)).toEqual(["unknown_filled"]);
    expect(readFileSync(join(work, "partial.bin"))).toHaveLength(4096);
  });
});

describe("the tapwallet command", () => {
  const cli = (...args: string[]) =>
    spawnSync("npx", ["tsx", "src/cli/main.ts", "door", ...args], {
      encoding: "utf8",
      cwd: join(import.meta.dirname, "../.."),
    });

  it("inspect --json prints one JSON document; convert writes the file", () => {
    const out = execFileSync(
      "npx",
      ["tsx", "src/cli/main.ts", "door", "inspect", fixture("blank-1k.mct"), "--json"],
      {
        encoding: "utf8",
        cwd: join(import.meta.dirname, "../.."),
      },
    );
    expect(JSON.parse(out)).toMatchObject({ format: "mct", uid: "5A17E3C0", emulatable: true });
    const target = join(work, "cli.nfc");
    const r = cli("convert", fixture("blank-1k.eml"), "--to", "nfc", "--nfc-version", "2", "-o", target);
    expect(r.status).toBe(0);
    expect(readFileSync(target, "utf8")).toContain("ATQA: 04 00");
  });

  it("a bad file exits non-zero with the zh/en message and no stack trace", () => {
    const r = cli("inspect", fixture("bad-bcc.eml"));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("BCC");
    expect(r.stderr).toContain("错误 / error");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const f = cli("convert", fixture("blank-1k.eml"), "--to", "xyz", "-o", join(work, "x"));
    expect(f.status).not.toBe(0);
    expect(f.stderr).toContain("unknown format");
  });
});
