/**
 * Certification authority public keys (CAPKs) a terminal holds, by RID and index, each checked against its
 * SHA-1 checksum over RID ‖ index ‖ modulus ‖ exponent when loaded (as POS parameter downloads carry them:
 * TLV 9F06 RID, 9F22 index, DF05 expiry, DF06 hash algorithm, DF07 key algorithm, DF02 modulus,
 * DF04 exponent, DF03 checksum — emv.md §1.6, vectors/emv/unionpay-capk-08.json).
 */
import { createHash } from "node:crypto";
import { type Bytes, concat, equal, fromHex, toHex } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import { parseTlv } from "../../core/tlv.js";

export interface Capk {
  rid: Bytes;
  index: number;
  modulus: Bytes;
  exponent: Bytes;
  /** Expiry as YYYYMMDD, if the parameters give one. */
  expiry?: string;
}

export function capkChecksum(k: Capk): Bytes {
  const h = createHash("sha1")
    .update(concat(k.rid, Uint8Array.of(k.index), k.modulus, k.exponent))
    .digest();
  return new Uint8Array(h);
}

export class CapkStore {
  private readonly keys = new Map<string, Capk>();

  private static id(rid: Bytes, index: number): string {
    return `${toHex(rid)}/${index.toString(16).padStart(2, "0")}`;
  }

  /** Adds a key; with `checksum`, refuses it unless the checksum matches. */
  add(k: Capk, checksum?: Bytes): Result<void> {
    if (k.rid.length !== 5) return err("RID must be 5 bytes");
    if (k.modulus.length < 64 || k.modulus.length > 248) return err("CA key modulus must be 512–1984 bits");
    if (!(k.exponent.length === 1 && k.exponent[0] === 3) && toHex(k.exponent) !== "010001")
      return err("CA key exponent must be 3 or 65537");
    if (checksum && !equal(capkChecksum(k), checksum)) return err("CA public key checksum does not match");
    this.keys.set(CapkStore.id(k.rid, k.index), k);
    return ok(undefined);
  }

  get(rid: Bytes, index: number): Capk | undefined {
    return this.keys.get(CapkStore.id(rid, index));
  }

  get size(): number {
    return this.keys.size;
  }

  /** Loads one key from POS parameter TLVs (9F06, 9F22, DF02, DF04, DF03 required; DF05 optional). */
  addFromParameters(tlvBytes: Bytes): Result<Capk> {
    const parsed = parseTlv(tlvBytes, { recurse: false });
    if (!parsed.ok) return err(parsed.error);
    const m = new Map(parsed.value.map((t) => [t.tag, t.value]));
    const rid = m.get(0x9f06);
    const index = m.get(0x9f22);
    const modulus = m.get(0xdf02);
    const exponent = m.get(0xdf04);
    const checksum = m.get(0xdf03);
    if (!rid || index?.length !== 1 || !modulus || !exponent || !checksum)
      return err("CAPK parameters need 9F06, 9F22, DF02, DF04 and DF03");
    const expiry = m.get(0xdf05);
    const k: Capk = { rid, index: index[0]!, modulus, exponent };
    if (expiry) k.expiry = /^\d{8}$/.test(toHex(expiry)) ? toHex(expiry) : new TextDecoder().decode(expiry);
    const added = this.add(k, checksum);
    return added.ok ? ok(k) : err(added.error);
  }
}

/** UnionPay's production CA key index 08 (1152 bits), public data as POS parameter files carry it. */
export const UNIONPAY_CAPK_08: Capk = {
  rid: fromHex("A000000333"),
  index: 0x08,
  exponent: fromHex("03"),
  modulus: fromHex(
    "B61645EDFD5498FB246444037A0FA18C0F101EBD8EFA54573CE6E6A7FBF63ED21D66340852B0211CF5EEF6A1CD989F66AF21A8EB19DBD8DBC3706D135363A0D683D046304F5A836BC1BC632821AFE7A2F75DA3C50AC74C545A754562204137169663CFCC0B06E67E2109EBA41BC67FF20CC8AC80D7B6EE1A95465B3B2657533EA56D92D539E5064360EA4850FED2D1BF",
  ),
};
export const UNIONPAY_CAPK_08_CHECKSUM = fromHex("EE23B616C95C02652AD18860E48787C079E8E85A");
