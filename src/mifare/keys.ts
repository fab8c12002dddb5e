/**
 * MIFARE Classic keys: the default keys of the emulatable check, the built-in dictionary of the reader, and
 * user dictionaries in proxmark3 `.dic` and MIFARE Classic Tool `.keys` form (one 12-hex-digit key per line,
 * `#` starts a comment; the two forms are the same text format).
 */
import { type Bytes, fromHex, toHex } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";

/**
 * Keys a card "in the clear" uses (Mi Pay's "未加密" cards): the factory key, zeros, the MAD key (NXP AN10787),
 * the NFC Forum NDEF key and B0…B5. A card is emulatable only if every sector opens with one of these.
 */
export const DEFAULT_KEYS: readonly Bytes[] = [
  "FFFFFFFFFFFF",
  "000000000000",
  "A0A1A2A3A4A5",
  "D3F7D3F7D3F7",
  "B0B1B2B3B4B5",
].map((k) => fromHex(k));

/**
 * The reader's built-in dictionary: the default keys, then the well-known keys mfoc tries by default
 * (nfc-tools/mfoc src/mfoc.c defaultKeys; also in proxmark3 mfc_default_keys.dic).
 */
export const BUILTIN_KEYS: readonly Bytes[] = [
  ...DEFAULT_KEYS,
  ...[
    "4D3A99C351DD",
    "1A982C7E459A",
    "AABBCCDDEEFF",
    "714C5C886E97",
    "587EE5F9350F",
    "A0478CC39091",
    "533CB6C723F6",
    "8FD0A4F256E9",
  ].map((k) => fromHex(k)),
];

export function isDefaultKey(key: Bytes): boolean {
  const h = toHex(key);
  return DEFAULT_KEYS.some((k) => toHex(k) === h);
}

export interface DictionaryError {
  code: "bad_key_line" | "empty_dictionary";
  line?: number;
  zh: string;
  en: string;
}

/** Largest dictionary accepted (proxmark3's own file has about 2,500 keys). */
const MAX_DICTIONARY_KEYS = 100_000;

/**
 * Parses a `.dic` / `.keys` file: blank lines and `#` comments (whole-line or trailing) are skipped, every
 * other line must be exactly 12 hex digits. Duplicates are dropped, first occurrence kept.
 */
export function parseKeyDictionary(text: string): Result<Bytes[], DictionaryError> {
  const keys: Bytes[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*$/, "").trim();
    if (line === "") continue;
    if (!/^[0-9A-Fa-f]{12}$/.test(line))
      return err({
        code: "bad_key_line",
        line: i + 1,
        zh: `密钥文件第 ${i + 1} 行不是 12 位十六进制密钥`,
        en: `line ${i + 1} of the key file is not a 12-hex-digit key`,
      });
    const h = line.toUpperCase();
    if (seen.has(h)) continue;
    if (keys.length >= MAX_DICTIONARY_KEYS)
      return err({
        code: "bad_key_line",
        line: i + 1,
        zh: `密钥文件超过 ${MAX_DICTIONARY_KEYS} 个密钥`,
        en: `the key file has more than ${MAX_DICTIONARY_KEYS} keys`,
      });
    seen.add(h);
    keys.push(fromHex(h));
  }
  if (keys.length === 0)
    return err({ code: "empty_dictionary", zh: "密钥文件中没有密钥", en: "the key file holds no key" });
  return ok(keys);
}
