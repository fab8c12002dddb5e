/**
 * The card manager's GET STATUS (P1 40, P2 02: GlobalPlatform TLV format) as the TSM reads it: one `E3`
 * template per application with `4F` AID, `9F70` life cycle, `C5` privileges and `C4` executable load file
 * (our package id, ASCII). The bytes come from a phone, authenticated by the SE's R-MAC; they are parsed as
 * untrusted all the same: malformed input is an error value, never a throw.
 */
import { type Bytes, toHex } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import { parseTlv } from "../../core/tlv.js";
import { CRS_AID, ISD_AID } from "../../se/gp.js";

export interface StatusEntry {
  /** Upper-case hex. */
  aid: string;
  lifecycle: number;
  packageId: string | null;
}

/** Entries the SE itself provides (card manager, CRS): not cards, never reconciled. */
const BUILT_IN = new Set([toHex(ISD_AID), toHex(CRS_AID)]);

const PRINTABLE = /^[\x21-\x7e]{1,64}$/;

export function parseStatusEntries(data: Bytes): Result<StatusEntry[]> {
  const nodes = parseTlv(data, { skipPadding: false, maxDepth: 2 });
  if (!nodes.ok) return err(`GET STATUS answer is not TLV: ${nodes.error}`);
  const out: StatusEntry[] = [];
  for (const n of nodes.value) {
    if (n.tag !== 0xe3 || !n.children)
      return err("GET STATUS answer holds something other than E3 templates");
    const aid = n.children.find((c) => c.tag === 0x4f)?.value;
    const lc = n.children.find((c) => c.tag === 0x9f70)?.value;
    if (!aid || aid.length < 5 || aid.length > 16) return err("an E3 template without a valid 4F AID");
    if (!lc || lc.length !== 1) return err("an E3 template without a one-byte 9F70 life cycle");
    const file = n.children.find((c) => c.tag === 0xc4)?.value;
    const name = file ? new TextDecoder("latin1").decode(file) : null;
    out.push({
      aid: toHex(aid),
      lifecycle: lc[0]!,
      packageId: name !== null && PRINTABLE.test(name) ? name : null,
    });
  }
  return ok(out);
}

export const isBuiltIn = (aid: string): boolean => BUILT_IN.has(aid);

/** GP life cycle without the LOCKED bit. */
export const lifecycleState = (lifecycle: number): number => lifecycle & 0x7f;
