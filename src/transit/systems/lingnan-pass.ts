/**
 * Lingnan Pass (岭南通 / 羊城通), DF names PAY.APPY (information) and PAY.TICL (e-purse) (reference transit.md
 * §2.3; nfcim/nfsee `ReadLingnanTong`, MIT).
 *
 * EF15 (30 B): the card number is 10 BCD digits at bytes 11..15 (nfsee). The rest of the layout is not
 * published; ours follows the City Union header: issuer 2 ‖ city 2 (MOHURD 5100) ‖ RFU 4 ‖ 01 ‖ 01 ‖ RFU 1 ‖
 * number 5 ‖ RFU 4 ‖ valid from 4 ‖ valid to 4 ‖ RFU 2. ASN (key diversification) = 000000 ‖ number.
 */
import { bcd, concat, fromHex, readBcd, toHex } from "../../core/bytes.js";
import { type Result, err } from "../../core/result.js";
import { productOfSystem } from "../catalogue.js";
import { bcdDate } from "../records.js";
import { decodedIdentity, validity } from "./decoded.js";
import type { DecodedIdentity, IdentityFiles, SystemLayout } from "./types.js";

function checkNumber(n: string): void {
  if (!/^\d{10}$/.test(n)) throw new RangeError("a Lingnan Pass card number has 10 digits");
}

export const lingnanPassLayout: SystemLayout = {
  system: "lingnan-pass",

  cardNumberFor(_product, sequence) {
    return String(sequence).padStart(10, "0");
  },

  identityFiles(product, identity): IdentityFiles {
    checkNumber(identity.cardNumber);
    const number = bcd(identity.cardNumber, 5);
    const ef15 = concat(
      bcd(product.issuer.code, 2),
      fromHex(product.city.code),
      new Uint8Array(4),
      Uint8Array.of(0x01, 0x01, 0x00),
      number,
      new Uint8Array(4),
      bcdDate(identity.validFrom),
      bcdDate(identity.validTo),
      new Uint8Array(2),
    );
    return { binaries: [{ sfi: 0x15, data: ef15 }], asn: concat(new Uint8Array(3), number) };
  },

  decodeIdentity(files): Result<DecodedIdentity> {
    const ef15 = files.get(0x15);
    if (!ef15 || ef15.length < 28) return err("Lingnan Pass EF15 missing or shorter than 28 bytes");
    const cardNumber = readBcd(ef15.subarray(11, 16));
    if (!cardNumber) return err("Lingnan Pass card number is not BCD");
    const v = validity(ef15.subarray(20, 24), ef15.subarray(24, 28), "Lingnan Pass EF15");
    if (!v.ok) return v;
    return decodedIdentity(
      { cardNumber, ...v.value, asn: concat(new Uint8Array(3), ef15.slice(11, 16)) },
      { scheme: "mohurd", code: toHex(ef15.subarray(2, 4)) },
      productOfSystem("lingnan-pass"),
    );
  },
};
