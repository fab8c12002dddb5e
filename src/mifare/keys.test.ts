import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toHex } from "../core/bytes.js";
import { BUILTIN_KEYS, DEFAULT_KEYS, isDefaultKey, parseKeyDictionary } from "./keys.js";

describe("key dictionaries", () => {
  it("reads MIFARE Classic Tool std.keys (comment header, three keys)", () => {
    // Content of MCT's assets/key-files/std.keys (ikarus23/MifareClassicTool), typed here.
    const r = parseKeyDictionary("# Standard keys\n\nFFFFFFFFFFFF\nA0A1A2A3A4A5\nD3F7D3F7D3F7\n");
    expect(r.ok && r.value.map(toHex)).toEqual(["FFFFFFFFFFFF", "A0A1A2A3A4A5", "D3F7D3F7D3F7"]);
  });

  it("reads proxmark3 .dic lines: trailing comments, CRLF, lower case, duplicates dropped", () => {
    const r = parseKeyDictionary(
      "#\r\n# default\r\nffffffffffff # factory\r\n4D3A99C351DD\r\nFFFFFFFFFFFF\r\n",
    );
    expect(r.ok && r.value.map(toHex)).toEqual(["FFFFFFFFFFFF", "4D3A99C351DD"]);
  });

  it("names the bad line in both languages; an empty file is refused", () => {
    const r = parseKeyDictionary("FFFFFFFFFFFF\nFFFFFFFFFFF\n");
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.error).toMatchObject({
        code: "bad_key_line",
        line: 2,
        zh: expect.stringContaining("第 2 行"),
      });
    expect(parseKeyDictionary("# nothing\n").ok).toBe(false);
  });

  it("never throws on any text; what it returns are 6-byte keys", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const r = parseKeyDictionary(text);
        if (r.ok) expect(r.value.every((k) => k.length === 6)).toBe(true);
      }),
    );
  });

  it("the default keys are in the built-in dictionary, first", () => {
    expect(BUILTIN_KEYS.slice(0, DEFAULT_KEYS.length)).toEqual(DEFAULT_KEYS);
    expect(BUILTIN_KEYS).toHaveLength(13);
    expect(isDefaultKey(DEFAULT_KEYS[2]!)).toBe(true);
    expect(isDefaultKey(BUILTIN_KEYS[5]!)).toBe(false);
  });
});
