/**
 * China T-Union (交通联合, JT/T 978): EF15 with the 8-byte issuer identifier and the 19-digit card number, EF17
 * management data (reference transit.md §1.4, §2.1).
 *
 * EF15 (30 B): issuer id 8 ‖ app type 1 (02) ‖ app version 1 (01) ‖ card number 10 BCD (20 nibbles, the first
 * dropped) ‖ valid from 4 ‖ valid to 4 ‖ RFU 2.
 * EF17 (60 B): country 00000156 ‖ province 2 ‖ city 2 ‖ RFU 1 ‖ card type 1 ‖ RFU.
 */
import { type Bytes, bcd, concat, fromHex, readBcd, toHex } from "../../core/bytes.js";
import { type Result, err } from "../../core/result.js";
import { tUnionProductByCardNumber, type TransitProduct } from "../catalogue.js";
import { bcdDate } from "../records.js";
import { decodedIdentity, validity } from "./decoded.js";
import type { CardIdentity, DecodedIdentity, IdentityFiles, SystemLayout } from "./types.js";

const EF15_LENGTH = 30;
const EF17_LENGTH = 60;

function checkNumber(product: TransitProduct, n: string): void {
  if (!/^\d{19}$/.test(n)) throw new RangeError("a T-Union card number has 19 digits");
  if (product.iin && !n.startsWith(product.iin))
    throw new RangeError(`card number does not start with ${product.iin}`);
}

function tUnionEf15(product: TransitProduct, id: CardIdentity): Bytes {
  checkNumber(product, id.cardNumber);
  return concat(
    fromHex(product.issuer.code),
    Uint8Array.of(0x02, 0x01),
    bcd(`0${id.cardNumber}`, 10),
    bcdDate(id.validFrom),
    bcdDate(id.validTo),
    new Uint8Array(2),
  );
}

function tUnionEf17(product: TransitProduct, id: CardIdentity): Bytes {
  const out = new Uint8Array(EF17_LENGTH);
  out.set(fromHex("00000156"), 0);
  const city = product.city.code;
  out.set(fromHex(`${city.slice(0, 2)}00`), 4);
  out.set(fromHex(city), 6);
  out[9] = id.cardType ?? 1;
  return out;
}

export const tUnionLayout: SystemLayout = {
  system: "t-union",

  cardNumberFor(product, sequence) {
    if (!product.iin) throw new RangeError(`${product.id} has no IIN`);
    return product.iin + String(sequence).padStart(11, "0");
  },

  identityFiles(product, identity): IdentityFiles {
    const ef15 = tUnionEf15(product, identity);
    return {
      binaries: [
        { sfi: 0x15, data: ef15 },
        { sfi: 0x17, data: tUnionEf17(product, identity) },
      ],
      asn: ef15.slice(12, 20),
    };
  },

  decodeIdentity(files): Result<DecodedIdentity> {
    const ef15 = files.get(0x15);
    if (!ef15 || ef15.length < EF15_LENGTH) return err("T-Union EF15 missing or shorter than 30 bytes");
    const digits = readBcd(ef15.subarray(10, 20));
    if (!digits) return err("T-Union card number is not BCD");
    const cardNumber = digits.slice(1);
    const v = validity(ef15.subarray(20, 24), ef15.subarray(24, 28), "T-Union EF15");
    if (!v.ok) return v;
    return decodedIdentity(
      { cardNumber, ...v.value, asn: ef15.slice(12, 20) },
      { scheme: "gbt13497", code: toHex(ef15.subarray(2, 4)) },
      tUnionProductByCardNumber(cardNumber),
    );
  },
};
