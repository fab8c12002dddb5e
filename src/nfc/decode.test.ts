import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { fromHex, toHex } from "../core/bytes.js";
import { tlv } from "../core/tlv.js";
import { TraceDecoder, decodeTranscript, formatDecoded, maskPan } from "./decode.js";
import { qpbocOnline } from "./fixtures/qpboc-online.js";

const GAC = "80AE80001D" + "00".repeat(29) + "00";
const one = (cmd: string, rsp = "9000") => new TraceDecoder().decode(fromHex(cmd), fromHex(rsp));

describe("decoding the qPBOC online trace (neil-pan-s/qpboc-kernel)", () => {
  const decoded = decodeTranscript(qpbocOnline());

  it("names the three commands and their status words in zh and en", () => {
    expect(decoded.map((d) => d.command.name.en)).toEqual(["SELECT", "SELECT", "GET PROCESSING OPTIONS"]);
    expect(decoded[0]!.command.fields[0]!.value).toContain('"2PAY.SYS.DDF01"');
    expect(decoded.every((d) => d.response.sw === "9000")).toBe(true);
    expect(decoded[0]!.response.meaning).toEqual({ zh: "成功", en: "success" });
  });

  it("splits the GPO data with the PDOL the selected application announced", () => {
    const gpo = decoded[2]!.command.fields.map((f) => `${f.label.en}=${f.value}`);
    expect(gpo).toContain("9F66 Terminal Transaction Qualifiers (TTQ)=36800000");
    expect(gpo).toContain("9F02 Amount, Authorised=000000000001");
    expect(gpo).toContain("9F37 Unpredictable Number=2B29EBE4");
  });

  it("shows the responses as TLV trees with tag names", () => {
    const fci = decoded[1]!.response.tlv![0]!;
    expect(fci.tag).toBe("6F");
    expect(fci.name).toBe("File Control Information (FCI) Template");
    const a5 = fci.children!.find((c) => c.tag === "A5")!;
    expect(a5.children!.find((c) => c.tag === "9F38")!.text).toBe(
      "9F66(4) 9F02(6) 9F03(6) 9F1A(2) 95(5) 5F2A(2) 9A(3) 9C(1) 9F37(4)",
    );
    expect(a5.children!.find((c) => c.tag === "50")!.text).toBe('"PBOC DEBIT"');
  });

  it("masks track 2: first 6 and last 4 PAN digits only, in text and in the structured form", () => {
    const track2 = decoded[2]!.response.tlv![0]!.children!.find((c) => c.tag === "57")!;
    expect(track2.value).toBe("629999******9999D*****************");
    expect(track2.masked).toBe(true);
    for (const out of [formatDecoded(decoded, "zh"), formatDecoded(decoded, "en"), JSON.stringify(decoded)]) {
      expect(out).not.toContain("6299999999999999");
      expect(out).not.toContain("D20112010123456789");
    }
  });

  it("formats text in zh (zh first, en beside) and en", () => {
    const zh = formatDecoded(decoded, "zh");
    expect(zh).toContain("[3] >> 获取处理选项 GET PROCESSING OPTIONS");
    expect(zh).toContain("9000 成功 (success)");
    const en = formatDecoded(decoded, "en");
    expect(en).toContain("[1] >> SELECT");
    expect(en).toContain("<< 9000 success · 50 bytes");
    expect(en).toContain("      9F36 Application Transaction Counter (ATC): 0ADC");
  });
});

describe("command names", () => {
  const cases: [string, string][] = [
    ["00A4040008A00000063201010500", "SELECT"],
    ["00B201C400", "READ RECORD"],
    ["00B0950000", "READ BINARY"],
    ["80A8000002830000", "GET PROCESSING OPTIONS"],
    [GAC, "GENERATE AC"],
    ["80CA9F3600", "GET DATA"],
    ["805C000204", "GET BALANCE"],
    ["805000020B0100000064000000112233", "INITIALIZE FOR LOAD"],
    ["805001020B0100000064000000112233", "INITIALIZE FOR PURCHASE"],
    ["805003020B0100000064000000112233", "INITIALIZE FOR CAPP PURCHASE"],
    ["805000020B0100000064000000112233".replace("80500002", "80500501"), "INITIALIZE FOR UNLOAD"],
    ["805200000B2025010212000011223344", "CREDIT FOR LOAD"],
    ["805401000F0000000120250102120000AABBCCDD08", "DEBIT FOR PURCHASE / CAPP PURCHASE"],
    ["80DC02B8100102030405060708090A0B0C0D0E0F10", "UPDATE CAPP DATA CACHE"],
    ["805A0009020001", "GET TRANSACTION PROVE"],
    ["0084000008", "GET CHALLENGE"],
    ["00820002080102030405060708", "EXTERNAL AUTHENTICATE"],
    ["00880000040102", "MALFORMED APDU"],
    ["008800000401020304", "INTERNAL AUTHENTICATE"],
    ["0020000003123456", "VERIFY"],
    ["8050000008112233445566778800", "INITIALIZE UPDATE (GlobalPlatform)"],
    ["84820100100102030405060708090A0B0C0D0E0F10", "EXTERNAL AUTHENTICATE (GlobalPlatform)"],
    ["80E60C00130000000000000000000000000000000000000000", "INSTALL (GlobalPlatform)"],
    ["80E400000A4F08A00000033301010100", "DELETE (GlobalPlatform)"],
    ["80E2800009010106700457020000", "STORE DATA (GlobalPlatform)"],
    ["80F21000024F0000", "GET STATUS (GlobalPlatform)"],
    ["80F0400708A000000333010101", "SET STATUS (GlobalPlatform)"],
    ["FFCA000000", "GET DATA (reader: UID)"],
    ["FFCA010000", "GET DATA (reader: ATS)"],
    ["FF82000006FFFFFFFFFFFF", "LOAD KEY (reader)"],
    ["FF860000050100046000", "GENERAL AUTHENTICATE (reader, MIFARE)"],
    ["FFB0000410", "READ BINARY (reader, block)"],
    ["FFD600041000000000000000000000000000000000", "UPDATE BINARY (reader, block)"],
    ["00C0000020", "GET RESPONSE"],
    ["00E0000000", "UNKNOWN (CLA 00 INS E0)"],
  ];
  it.each(cases)("%s → %s", (cmd, name) => {
    expect(one(cmd).command.name.en).toBe(name);
  });

  it("says what it hides in the output's language: zh first with the English beside, or English", () => {
    const secrets = decodeTranscript([
      { command: fromHex("FF82000006A0A1A2A3A4A5"), response: fromHex("9000") },
      { command: fromHex("0020000003123456"), response: fromHex("9000") },
      { command: fromHex("0020000000"), response: fromHex("63C3") },
      { command: fromHex("80D8000003010203"), response: fromHex("9000") },
    ]);
    const zh = formatDecoded(secrets, "zh");
    expect(zh).toContain("密钥: 已隐藏 6 字节 (6 bytes hidden)");
    expect(zh).toContain("PIN: 已隐藏 3 字节 (3 bytes hidden)");
    expect(zh).toContain("PIN: 查询剩余尝试次数 (retry counter query)");
    expect(zh).toContain("密钥数据: 已隐藏 3 字节 (3 bytes hidden)");
    // No English-only value left in the zh text.
    expect(zh).not.toMatch(/: (\d+ bytes hidden|retry counter query)$/m);
    const en = formatDecoded(secrets, "en");
    expect(en).toContain("key: 6 bytes hidden");
    expect(en).not.toContain("已隐藏");
    // The JSON keeps `value` (English) and gives both languages beside it.
    expect(secrets[0]!.command.fields[1]).toEqual({
      label: { en: "key", zh: "密钥" },
      value: "6 bytes hidden",
      text: { en: "6 bytes hidden", zh: "已隐藏 6 字节" },
    });
    for (const t of [zh, en, JSON.stringify(secrets)]) expect(t).not.toContain("A0A1A2A3A4A5");
  });

  it("gives the parameters: SFI and record, SFI and offset, FID, path, cryptogram type", () => {
    const f = (cmd: string) => one(cmd).command.fields.map((x) => `${x.label.en}: ${x.value}`);
    expect(f("00B202C400")).toEqual(["file: SFI 18", "record: 2"]);
    expect(f("00B0951004")).toEqual(["file: SFI 15", "offset: 16"]);
    expect(f("00B0010204")).toEqual(["file: current EF", "offset: 258"]);
    expect(f("00A4000002001500")).toEqual(["by file identifier: 0015 (EF, SFI 15)"]);
    expect(f("00A40000023F00")).toEqual(["by file identifier: MF"]);
    expect(f("00A408000410010015")).toEqual(["path from MF: 1001/0015"]);
    expect(f("00A4040205A00000033300")).toContain("occurrence: next");
    expect(f(GAC)[0]).toBe("cryptogram: ARQC");
    expect(f("805000020B0100000064000000112233")).toEqual([
      "purse: EP (02)",
      "key index: 01",
      "amount: ¥1.00 (00000064)",
      "terminal id: 000000112233",
    ]);
    expect(f("80CA9F3600")).toEqual(["tag: 9F36 Application Transaction Counter (ATC)"]);
  });

  it("never shows keys or PINs", () => {
    const key = one("FF82000006A0A1A2A3A4A5");
    expect(JSON.stringify(key)).not.toContain("A0A1A2A3A4A5");
    expect(key.command.hex).toBe("FF820000…");
    const pin = one("0020000003123456");
    expect(JSON.stringify(pin)).not.toContain("123456");
    const perso = one("80E2800009010106700457020000");
    expect(perso.command.fields.find((x) => x.label.en === "DGIs")!.value).toBe("0101(6)");
    expect(JSON.stringify(perso)).not.toContain("700457");
  });
});

describe("response decoding", () => {
  it("reads e-purse answers as fields", () => {
    const v = (cmd: string, rsp: string) =>
      one(cmd, rsp).response.fields!.map((x) => `${x.label.en}: ${x.value}`);
    expect(v("805C000204", "00000B229000")).toEqual(["balance: ¥28.50 (00000B22)"]);
    expect(v("805000020B0100000064000000112233", "00000B2200050102AABBCCDD112233449000")).toEqual([
      "balance: ¥28.50 (00000B22)",
      "online ATC: 0005",
      "key version: 01",
      "algorithm id: 02",
      "random: AABBCCDD",
      "MAC1: 11223344",
    ]);
    expect(v("805001020B0100000064000000112233", "00000B220007000000010255667788" + "9000")[2]).toBe(
      "overdraft limit: ¥0.00 (000000)",
    );
    expect(v("805401000F0000000120250102120000AABBCCDD08", "01020304050607089000")).toEqual([
      "TAC: 01020304",
      "MAC2: 05060708",
    ]);
    expect(v("805A0009020001", "05060708010203049000")).toEqual(["MAC2: 05060708", "TAC: 01020304"]);
    expect(
      v(
        "8050000008112233445566778800",
        "00001122334455667788" + "2002" + "0001" + "AABBCCDDEEFF" + "0102030405060708" + "9000",
      ),
    ).toContain("card challenge: AABBCCDDEEFF");
  });

  it("masks 5A in records and reads the status word when there is no data", () => {
    const rec = toHex(tlv(0x70, [{ tag: 0x5a, value: fromHex("6228480001234567890F") }]));
    const d = one("00B2010C00", `${rec}9000`);
    expect(d.response.tlv![0]!.children![0]!.value).toBe("622848*********7890");
    expect(JSON.stringify(d)).not.toContain("62284800012345");
    const e = one("00B2050C00", "6A83");
    expect(e.response).toMatchObject({ sw: "6A83", length: 0 });
    expect(e.response.meaning!.zh).toBe("未找到记录");
    expect(maskPan("6228480001234567890")).toBe("622848*********7890");
  });

  it("shows non-TLV data as hex, masking track-2-like digits", () => {
    expect(one("00B0950000", "0102039000").response.hex).toBe("010203");
    expect(one("00B0960000", "6212345678901234D25121010000009000").response.hex).toBe(
      `621234******1234D${"*".repeat(13)}`,
    );
  });

  it("decodes what GET RESPONSE continues, and learns the PDOL from it", () => {
    const d = new TraceDecoder();
    d.decode(fromHex("00A4040008A00000033301010100"), fromHex("6118"));
    const fci = "6F158408A000000333010101A5099F38069F02069F3704";
    const gr = d.decode(fromHex("00C0000018"), fromHex(`${fci}9000`));
    expect(gr.response.tlv?.[0]?.tag).toBe("6F");
    const gpo = d.decode(fromHex("80A800000C830A0000000001000102030400"), fromHex("9000"));
    expect(gpo.command.fields.map((f) => `${f.label.en}=${f.value}`)).toEqual([
      "9F02 Amount, Authorised=000000000100",
      "9F37 Unpredictable Number=01020304",
    ]);
    const other = d.decode(fromHex("00A4040008A00000033301010200"), fromHex("6A82"));
    expect(other.response.sw).toBe("6A82");
    const unknownPdol = d.decode(fromHex("80A800000C830A0000000001000102030400"), fromHex("9000"));
    expect(unknownPdol.command.fields[0]!.label.en).toBe("PDOL data");
  });

  it("never throws on arbitrary commands and responses", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 60 }), fc.uint8Array({ maxLength: 80 })), {
          maxLength: 5,
        }),
        (pairs) => {
          const d = decodeTranscript(pairs.map(([command, response]) => ({ command, response })));
          return typeof formatDecoded(d, "zh") === "string" && typeof formatDecoded(d, "en") === "string";
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("never shows a PAN placed in 5A or 57 of any response", () => {
    const digits = fc.stringMatching(/^[1-9]\d{15,18}$/);
    fc.assert(
      fc.property(digits, fc.constantFrom(0x5a, 0x57), fc.constantFrom(0x70, 0x77), (pan, tag, template) => {
        const t2 = `${pan}D2512101000`;
        const value = fromHex(
          tag === 0x5a ? (pan.length % 2 ? `${pan}F` : pan) : t2.length % 2 ? `${t2}F` : t2,
        );
        const rsp = `${toHex(tlv(template, [{ tag, value }]))}9000`;
        const out = JSON.stringify(one("00B2010C00", rsp)) + formatDecoded([one("00B2010C00", rsp)], "en");
        return !out.includes(pan.slice(6, -4)) || pan.slice(6, -4).length === 0;
      }),
      { numRuns: 2_000 },
    );
  });
});
