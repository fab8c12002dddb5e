/**
 * Shenzhen Tong (深圳通, CPU generation), DF name PAY.SZT (reference transit.md §1.4).
 *
 * EF15 (32 B, as in a real card's FCI): 00×8 ‖ FD44 ‖ 0000 ‖ city 5180 (MOHURD) ‖ 0000 ‖ serial 4 little-endian ‖
 * valid from 4 ‖ valid to 4 ‖ 1010 ‖ 0000. The ASN (key diversification) is EF15[12..19].
 * Card number: the serial (Metrodroid, Xiaomi and Huami all read it little-endian), 9 digits zero-padded as
 * Huami prints it, followed by the check digit (10 − digit sum mod 10) mod 10 (Metrodroid
 * `NewShenzhenTransitData`).
 * The purse answers GET BALANCE in excess-2^31 (0x80000B22 = ¥28.50).
 */
import { type Bytes, concat, fromHex, readUintLE, toHex, uintBE } from "../../core/bytes.js";
import { type Result, err } from "../../core/result.js";
import { productOfSystem } from "../catalogue.js";
import { bcdDate } from "../records.js";
import { decodedIdentity, validity } from "./decoded.js";
import type { DecodedIdentity, IdentityFiles, SystemLayout } from "./types.js";

export function sztCheckDigit(serial: number): number {
  const sum = [...String(serial)].reduce((s, d) => s + Number(d), 0);
  return (10 - (sum % 10)) % 10;
}

export const sztCardNumber = (serial: number): string =>
  `${String(serial).padStart(9, "0")}${sztCheckDigit(serial)}`;

function sztSerial(cardNumber: string): number {
  const m = /^(\d{9,10})(\d)$/.exec(cardNumber);
  const serial = m ? Number(m[1]) : NaN;
  if (!m || serial > 0xffffffff || sztCheckDigit(serial) !== Number(m[2]))
    throw new RangeError("not a Shenzhen Tong card number (serial and check digit)");
  return serial;
}

export const shenzhenTongLayout: SystemLayout = {
  system: "shenzhen-tong",

  cardNumberFor(_product, sequence) {
    return sztCardNumber(sequence);
  },

  identityFiles(_product, identity): IdentityFiles {
    const ef15 = concat(
      new Uint8Array(8),
      fromHex("FD44 0000 5180 0000"),
      uintBE(sztSerial(identity.cardNumber), 4).reverse(),
      bcdDate(identity.validFrom),
      bcdDate(identity.validTo),
      fromHex("1010 0000"),
    );
    return { binaries: [{ sfi: 0x15, data: ef15 }], asn: ef15.slice(12, 20) };
  },

  decodeIdentity(files): Result<DecodedIdentity> {
    const ef15: Bytes | undefined = files.get(0x15);
    if (!ef15 || ef15.length < 28) return err("Shenzhen Tong EF15 missing or shorter than 28 bytes");
    const v = validity(ef15.subarray(20, 24), ef15.subarray(24, 28), "Shenzhen Tong EF15");
    if (!v.ok) return v;
    return decodedIdentity(
      { cardNumber: sztCardNumber(readUintLE(ef15, 16, 4)), ...v.value, asn: ef15.slice(12, 20) },
      { scheme: "mohurd", code: toHex(ef15.subarray(12, 14)) },
      productOfSystem("shenzhen-tong"),
    );
  },
};
