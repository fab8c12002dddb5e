/**
 * The Proximity Payment System Environment (2PAY.SYS.DDF01), answered by the SE itself from the PPSE entries
 * of the instances the field reaches now (EMV Book B; format as in reference/emv.md §1.2):
 *
 *   6F { 84 "2PAY.SYS.DDF01", A5 { BF0C { 61 { 4F AID, 50 label, 87 priority, [9F2A kernel id] } … } } }
 *
 * Entries are ordered by priority, the default payment card's first; the 87 priorities are renumbered 1, 2, …
 * in that order so a terminal taking the highest priority takes the default card.
 */
import { type CommandApdu, type ResponseApdu, response } from "../core/apdu.js";
import { type Bytes, ascii } from "../core/bytes.js";
import { SW } from "../core/sw.js";
import { type Tlv, tlv } from "../core/tlv.js";
import type { Applet } from "./applet.js";
import { PPSE_NAME } from "./gp.js";
import type { Instance } from "./instances.js";

export interface PpseEntry {
  aid: Bytes;
  label: string;
  kernelId?: number;
}

/** The entries of `instances` (install order), default payment card first, then by declared priority. */
export function ppseEntries(instances: readonly Instance[], defaultPayment: string | null): PpseEntry[] {
  const rows: { entry: PpseEntry; rank: number; priority: number; order: number }[] = [];
  for (const [order, inst] of instances.entries()) {
    for (const e of inst.contactless?.ppse ?? []) {
      // An entry may name one of the instance's selection AIDs (e.g. a T-Union card's public EP and EC AIDs).
      const entry: PpseEntry = { aid: e.aid ?? inst.aid, label: e.label };
      if (e.kernelId !== undefined) entry.kernelId = e.kernelId;
      rows.push({ entry, rank: inst.hex === defaultPayment ? 0 : 1, priority: e.priority, order });
    }
  }
  rows.sort((a, b) => a.rank - b.rank || a.priority - b.priority || a.order - b.order);
  return rows.map((r) => r.entry);
}

/** The PPSE FCI for `entries`, or null when there is nothing to list. */
export function ppseFci(entries: readonly PpseEntry[]): Bytes | null {
  if (entries.length === 0) return null;
  const templates: Tlv[] = entries.map((e, i) => {
    const items: Tlv[] = [
      { tag: 0x4f, value: e.aid },
      { tag: 0x50, value: ascii(e.label).subarray(0, 16) },
      { tag: 0x87, value: Uint8Array.of(Math.min(i + 1, 15)) },
    ];
    if (e.kernelId !== undefined) items.push({ tag: 0x9f2a, value: Uint8Array.of(e.kernelId & 0xff) });
    return { tag: 0x61, value: new Uint8Array(0), children: items };
  });
  return tlv(0x6f, [
    { tag: 0x84, value: PPSE_NAME },
    {
      tag: 0xa5,
      value: new Uint8Array(0),
      children: [{ tag: 0xbf0c, value: new Uint8Array(0), children: templates }],
    },
  ]);
}

/** The PPSE as a built-in application; `fci()` gives the current answer (null = not present). */
export class PpseApplet implements Applet {
  constructor(private readonly fci: () => Bytes | null) {}

  select(_c: CommandApdu): ResponseApdu {
    const fci = this.fci();
    return fci ? response(SW.OK, fci) : response(SW.FILE_NOT_FOUND);
  }

  process(): ResponseApdu {
    return response(SW.INS_NOT_SUPPORTED);
  }
}
