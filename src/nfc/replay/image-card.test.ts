import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fromHex, toHex } from "../../core/bytes.js";
import { ImageCard } from "./image-card.js";
import { loadImage } from "./image.js";
import { EF15, RECORD_1, RECORD_2, TEST_IMAGE } from "./fixtures.js";

const card = () => {
  const r = ImageCard.fromJson(TEST_IMAGE);
  if (!r.ok) throw new Error(r.error);
  r.value.activate();
  return r.value;
};
const send = (c: ImageCard, h: string) => toHex(c.process(fromHex(h)));
const TUNION = "00A4040008A00000063201010500";

describe("ImageCard selection", () => {
  it("activates with the image's activation data", () => {
    const a = ImageCard.fromJson(TEST_IMAGE);
    expect(a.ok && toHex(a.value.activate().uid)).toBe("08A1B2C3");
  });

  it("answers SELECT PPSE and SELECT by full AID with the FCI", () => {
    const c = card();
    expect(send(c, "00A404000E325041592E5359532E444446303100")).toBe(TEST_IMAGE.ppse + "9000");
    expect(send(c, "00A4040008A00000033301010100")).toBe(TEST_IMAGE.applications[1]!.fci + "9000");
    expect(send(c, "00A4040C08A000000333010101")).toBe("9000"); // P2 0C: no response data
  });

  it("selects by partial DF name, first then next occurrence", () => {
    const c = card();
    expect(send(c, "00A4040005A00000033300")).toBe(TEST_IMAGE.applications[1]!.fci + "9000");
    expect(send(c, "00A4040205A00000033300")).toBe(TEST_IMAGE.applications[2]!.fci + "9000");
    expect(send(c, "00A4040205A00000033300")).toBe("6A82");
    expect(send(c, "00A4040005A00000099900")).toBe("6A82");
  });

  it("selects by FID: ADF 1001, EF 00xx, MF 3F00, and by path", () => {
    const c = card();
    expect(send(c, "00A40000021001")).toBe(TEST_IMAGE.applications[0]!.fci + "9000");
    expect(send(c, "00A4000002001500")).toBe("9000");
    expect(send(c, "00B0000000")).toBe(EF15 + "9000");
    expect(send(c, "00A40000023F00")).toBe("9000");
    expect(send(c, "00A4000002001500")).toBe("6A82"); // no EF 0015 under the MF
    expect(send(c, "00B0950000")).toBe("6A82");
    expect(send(c, "00A40800041001001500")).toBe("9000");
    expect(send(c, "00B0000A05")).toBe(EF15.slice(20, 30) + "9000");
    expect(send(c, "00A40800043F00100100")).toBe(TEST_IMAGE.applications[0]!.fci + "9000");
    expect(send(c, "00A4080004100100AA00")).toBe("6A82");
    expect(send(c, "00A4000000")).toBe("9000"); // Metrodroid's "select MF"
  });
});

describe("ImageCard reading", () => {
  it("answers Metrodroid's China-card reading: SFI READ BINARY, READ RECORD to 6A83, GET BALANCE P1 00–03", () => {
    const c = card();
    expect(send(c, TUNION)).toBe(TEST_IMAGE.applications[0]!.fci + "9000");
    expect(send(c, "00B0950000")).toBe(EF15 + "9000");
    expect(send(c, "00B201C400")).toBe(RECORD_1 + "9000");
    expect(send(c, "00B202C400")).toBe(RECORD_2 + "9000");
    expect(send(c, "00B203C400")).toBe("6A83");
    for (const p1 of ["00", "03"]) expect(send(c, `805C${p1}0204`)).toBe("00000B229000");
    expect(send(c, "805C010204")).toBe("000000009000");
    expect(send(c, "805C040204")).toBe("6A86");
    expect(send(c, "805C000304")).toBe("6A86");
    expect(send(c, "805C000208")).toBe("6C04");
    expect(send(c, "00B0810000")).toBe("6A82"); // SFI 1 does not exist in this application
    expect(send(c, "00B2010C00")).toBe("6A82");
  });

  it("applies the Le rules of READ BINARY: partial reads, 6CXX beyond the end, 6B00 past the end", () => {
    const c = card();
    send(c, TUNION);
    expect(send(c, "00B095000A")).toBe(EF15.slice(0, 20) + "9000");
    expect(send(c, "00B0950028")).toBe("6C1E");
    expect(send(c, "00B095141E")).toBe("6C0A");
    expect(send(c, "00B0951400")).toBe(EF15.slice(40) + "9000");
    expect(send(c, "00B0951E00")).toBe("6B00");
    expect(send(c, "00B0001E00")).toBe("6B00"); // current EF (0x15 after the SFI read), offset 30
    expect(send(c, "00B0950000000000")).toBe("6700"); // not a valid APDU
    expect(send(c, "00B09500")).toBe("6700"); // no Le
  });

  it("reads whole records: Le other than 00 or the record length gets 6CXX", () => {
    const c = card();
    send(c, TUNION);
    const len = (RECORD_1.length / 2).toString(16).toUpperCase().padStart(2, "0");
    expect(send(c, `00B201C4${len}`)).toBe(RECORD_1 + "9000");
    expect(send(c, "00B201C405")).toBe(`6C${len}`);
    expect(send(c, "00B2010400")).toBe(RECORD_1 + "9000"); // current EF is now SFI 0x18
  });

  it("answers the wrong file structure and missing current EF with 6981 / 6986", () => {
    const c = card();
    send(c, TUNION);
    expect(send(c, "00B0000000")).toBe("6986");
    expect(send(c, "00B2010400")).toBe("6986");
    expect(send(c, "00B0980000")).toBe("6981");
    expect(send(c, "00B201AC00")).toBe("6981");
    expect(send(c, "00B2000C00")).toBe("6A86");
  });

  it("answers GET DATA from the image by whole command or header", () => {
    const c = card();
    send(c, TUNION);
    expect(send(c, "80CA000009")).toBe("0102030405060708099000");
    expect(send(c, "80CA000000")).toBe("0102030405060708099000");
    expect(send(c, "80CA9F3600")).toBe("6A88");
    send(c, "00A4040008A00000033301010100");
    expect(send(c, "80CA9F3600")).toBe("9F36020ADC9000");
    expect(send(c, "805C000204")).toBe("6D00"); // no e-purse in the bank application
  });

  it("answers everything else with the right status word", () => {
    const c = card();
    expect(send(c, "00")).toBe("6700");
    expect(send(c, "FFCA000000")).toBe("6E00");
    expect(send(c, "84820000080102030405060708")).toBe("6882");
    expect(send(c, "01A4040000")).toBe("6881");
    expect(send(c, "A0A4000000")).toBe("6E00");
    expect(send(c, "80A8000002830000")).toBe("6D00");
    expect(send(c, "0084000008")).toBe("6D00");
    expect(send(c, "00A4050000")).toBe("6A86");
    expect(send(c, "00A4040100")).toBe("6A86");
    expect(send(c, "00B0950000")).toBe("6A82"); // no application selected
  });

  it("never throws and always answers with a status word (100,000 arbitrary commands)", () => {
    const c = card();
    const interesting = fc
      .tuple(
        fc.constantFrom(0x00, 0x80, 0x84, 0xff, 0x01, 0x0c),
        fc.constantFrom(0xa4, 0xb0, 0xb2, 0x5c, 0xca, 0xcb, 0xa8, 0x84),
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 20 }),
      )
      .map(([cla, ins, p1, p2, rest]) => Uint8Array.of(cla, ins, p1, p2, ...rest));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 40 }), interesting), (b) => {
        const r = c.process(b);
        const sw1 = r[r.length - 2]!;
        return r.length >= 2 && (sw1 === 0x90 || (sw1 >= 0x61 && sw1 <= 0x6f));
      }),
      { numRuns: 100_000 },
    );
  });
});

describe("loadImage", () => {
  const bad = (mutate: (j: Record<string, unknown>) => void) => {
    const j = structuredClone(TEST_IMAGE) as unknown as Record<string, unknown>;
    mutate(j);
    const r = loadImage(j);
    expect(r.ok).toBe(false);
    return r.ok ? "" : r.error;
  };
  type J = { applications: Record<string, unknown>[] };

  it("accepts the documented form", () => {
    const r = loadImage(TEST_IMAGE);
    expect(r.ok).toBe(true);
    if (r.ok) expect([...r.value.applications[0]!.files.keys()]).toEqual([0x15, 0x18]);
  });

  it("names the wrong field in its errors", () => {
    expect(loadImage(null).ok).toBe(false);
    expect(loadImage({ applications: [] }).ok).toBe(false);
    expect(bad((j) => ((j as unknown as J).applications[0]!.aid = "XYZ"))).toBe(
      'applications[0].aid is not hex: "XYZ"',
    );
    expect(bad((j) => ((j as unknown as J).applications[0]!.files = { "15": { record: ["00"] } }))).toBe(
      'applications[0].files.15: unknown field "record" (expected binary, records)',
    );
    expect(bad((j) => ((j as unknown as J).applications[0]!.files = { "1F": { binary: "00" } }))).toContain(
      "SFI is 01–1E",
    );
    expect(bad((j) => ((j as unknown as J).applications[0]!.files = { "21": { binary: "00" } }))).toContain(
      "01–1E",
    );
    expect(bad((j) => ((j as unknown as J).applications[0]!.files = { x: { binary: "00" } }))).toContain(
      "two hex digits",
    );
    expect(bad((j) => ((j as unknown as J).applications[0]!.files = { "15": {} }))).toContain(
      'neither "binary" nor "records"',
    );
    expect(bad((j) => ((j as unknown as J).applications[0]!.balances = { "00": "0B22" }))).toContain(
      "must be 4 bytes",
    );
    expect(bad((j) => ((j as unknown as J).applications[0]!.getData = { "00B0950000": "00" }))).toContain(
      "not a GET DATA",
    );
    expect(bad((j) => ((j as unknown as J).applications[1]!.fid = "1001"))).toContain("fid is used twice");
    expect(bad((j) => (j.extra = 1))).toContain('unknown field "extra"');
    expect(bad((j) => (j.activation = { uid: "0102", atqa: "0004", sak: "20" }))).toContain("activation.uid");
  });
});
