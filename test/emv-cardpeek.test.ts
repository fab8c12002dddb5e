/**
 * Acceptance: a zero-amount, record-reading client gets a full answer. The client here is written apart from
 * our kernel and does what cardpeek's emv.lua does (github L1L1/cardpeek, dot_cardpeek_dir/scripts/emv.lua,
 * `build_empty_pdol_data_block`): PPSE, SELECT, GPO with TTQ 30000000, amount 0, country 0250, currency
 * 0978, UN DEADBEEF and zeros elsewhere, then READ RECORD for every AFL entry, GET DATA and the log.
 */
import { describe, expect, it } from "vitest";
import { type Bytes, fromHex, toHex } from "../src/core/bytes.js";
import { parseDol } from "../src/core/dol.js";
import { type Tlv, findTag, parseTlv } from "../src/core/tlv.js";
import { quickPassWorld } from "./emv-support.js";

function cardpeekPdolData(pdol: Bytes): Bytes {
  const entries = parseDol(pdol);
  if (!entries.ok) throw new Error(entries.error);
  const fill: Record<number, string> = {
    0x9f66: "30000000",
    0x9f1a: "0250",
    0x5f2a: "0978",
    0x9a: "260301",
    0x9f37: "DEADBEEF",
  };
  return Uint8Array.from(
    entries.value.flatMap((e) =>
      [...(fill[e.tag] ? fromHex(fill[e.tag]!) : new Uint8Array(e.length))].slice(0, e.length),
    ),
  );
}

function apdu(hex: string): Bytes {
  return fromHex(hex.replace(/\s/g, ""));
}

describe("a cardpeek-style reader (zero amount, reads every record)", () => {
  it("gets PPSE, FCI, a GPO answer with the AFL, every record, GET DATA and the log", async () => {
    const w = await quickPassWorld();
    const se = w.se;
    se.activate();
    const tx = (c: Bytes) => {
      const r = se.process(c);
      return { data: r.subarray(0, r.length - 2), sw: toHex(r.subarray(r.length - 2)) };
    };
    const ppse = tx(apdu("00A404000E 325041592E5359532E4444463031 00"));
    expect(ppse.sw).toBe("9000");
    const ppseTlv = parseTlv(ppse.data);
    if (!ppseTlv.ok) throw new Error(ppseTlv.error);
    const aid = findTag(ppseTlv.value, 0x4f)!.value;
    expect(toHex(aid)).toBe("A000000333010101");

    const fci = tx(Uint8Array.from([0x00, 0xa4, 0x04, 0x00, aid.length, ...aid, 0x00]));
    expect(fci.sw).toBe("9000");
    const fciTlv = parseTlv(fci.data);
    if (!fciTlv.ok) throw new Error(fciTlv.error);
    const pdolData = cardpeekPdolData(findTag(fciTlv.value, 0x9f38)!.value);
    const gpo = tx(
      Uint8Array.from([0x80, 0xa8, 0, 0, pdolData.length + 2, 0x83, pdolData.length, ...pdolData, 0]),
    );
    expect(gpo.sw).toBe("9000");
    const gpoTlv = parseTlv(gpo.data);
    if (!gpoTlv.ok) throw new Error(gpoTlv.error);
    const afl = findTag(gpoTlv.value, 0x94)!.value;
    expect(afl.length % 4).toBe(0);

    const found = new Map<number, Tlv>();
    for (let i = 0; i < afl.length; i += 4) {
      for (let rec = afl[i + 1]!; rec <= afl[i + 2]!; rec++) {
        const r = tx(Uint8Array.of(0x00, 0xb2, rec, afl[i]! | 4, 0x00));
        expect(r.sw).toBe("9000");
        const t = parseTlv(r.data);
        expect(t.ok && t.value[0]!.tag).toBe(0x70);
        if (t.ok) for (const n of t.value[0]!.children!) found.set(n.tag, n);
      }
    }
    // Everything a card reader shows: PAN, dates, track 2, and the fDDA chain.
    for (const tag of [0x57, 0x5a, 0x5f24, 0x5f25, 0x5f34, 0x8f, 0x90, 0x9f32, 0x9f46, 0x9f47, 0x9f69])
      expect(found.has(tag), tag.toString(16)).toBe(true);
    expect(toHex(found.get(0x5a)!.value)).toBe(w.issued.token);

    expect(tx(apdu("80CA9F3600")).sw).toBe("9000");
    const logFormat = tx(apdu("80CA9F4F00"));
    expect(logFormat.sw).toBe("9000");
    const log = tx(Uint8Array.of(0x00, 0xb2, 1, (0x0b << 3) | 4, 0x00));
    expect(log.sw).toBe("9000");
    expect(toHex(log.data.subarray(0, 3))).toBe("260301"); // this very transaction, newest first
    expect(tx(Uint8Array.of(0x00, 0xb2, 2, (0x0b << 3) | 4, 0x00)).sw).toBe("6A83");
  });
});
