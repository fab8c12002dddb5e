/**
 * Field 55 (ICC system related data) of the online request and the clearing record: the tags and order a
 * Chinese qPBOC kernel sends (the traced kernel and the PBOC blog list the same 20 tags, emv.md §1.1):
 * 9F26 9F27 9F10 9F37 9F36 95 9A 9C 9F02 5F2A 82 9F1A 9F03 9F33 9F34 9F35 9F1E 84 9F09 9F41,
 * then DF61 (PBOC "offline data authentication failed" indicator) when fDDA failed and the card asked to go
 * online.
 */
import { type Bytes, concat, fromHex } from "../../core/bytes.js";
import { tlv } from "../../core/tlv.js";
import type { CvmPerformed } from "../authorisation.js";

const FROM_CARD = new Set([0x9f26, 0x9f10, 0x9f36, 0x82]);
const FIELD55_ORDER = [
  0x9f26, 0x9f27, 0x9f10, 0x9f37, 0x9f36, 0x95, 0x9a, 0x9c, 0x9f02, 0x5f2a, 0x82, 0x9f1a, 0x9f03, 0x9f33,
  0x9f34, 0x9f35, 0x9f1e, 0x84, 0x9f09, 0x9f41,
] as const;

/**
 * CVM Results (9F34) for each qPBOC CVM outcome. There is no CVM list in qPBOC; the traced kernel sends
 * 000000 when no CVM applies, and we follow it (docs/DECISIONS.md "QuickPass: CVM Results"). Online PIN and
 * signature use their EMV codes with "result unknown"; CDCVM uses the C-2 "confirmation code verified" value.
 */
const CVM_RESULTS: Readonly<Record<CvmPerformed, Bytes>> = {
  none: fromHex("000000"),
  "online-pin": fromHex("420300"),
  signature: fromHex("1E0300"),
  cdcvm: fromHex("010002"),
};

export interface Field55Input {
  card: ReadonlyMap<number, Bytes>;
  terminal: ReadonlyMap<number, Bytes>;
  /** Cryptogram information data (9F27), from the card or derived from its CVR. */
  cid: Bytes;
  cvm: CvmPerformed;
  odaFailed: boolean;
}

export function buildField55(i: Field55Input): Bytes {
  const parts: Bytes[] = [];
  for (const tag of FIELD55_ORDER) {
    const value =
      tag === 0x9f27
        ? i.cid
        : tag === 0x9f34
          ? CVM_RESULTS[i.cvm]
          : FROM_CARD.has(tag)
            ? i.card.get(tag)
            : i.terminal.get(tag);
    if (value) parts.push(tlv(tag, value));
  }
  if (i.odaFailed) parts.push(tlv(0xdf61, Uint8Array.of(0x01)));
  return concat(...parts);
}
