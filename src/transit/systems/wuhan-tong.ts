/**
 * Wuhan Tong (武汉通), DF name AP1.WHCTC (reference transit.md §1.4; Metrodroid `WuhanTongTransitData`).
 *
 * Metrodroid reads the physical card's layout: EF0A bytes 0..4 = serial (10 digits), EF05 bytes 16..19 =
 * valid to and 20..23 = valid from (in that order), byte 24 = version. Wallet instances also carry a City
 * Union-style EF15 (Huami/Xiaomi), whose ASN 000000 ‖ serial our keys are diversified by. We write all three
 * and read EF0A/EF05 first (EF15 when they are absent).
 */
import { type Bytes, bcd, concat, fromHex, readBcd, toHex } from "../../core/bytes.js";
import { type Result, err } from "../../core/result.js";
import { productOfSystem } from "../catalogue.js";
import { bcdDate } from "../records.js";
import { decodedIdentity, validity } from "./decoded.js";
import type { DecodedIdentity, IdentityFiles, SystemLayout } from "./types.js";

const CITY = "4300";

export const wuhanTongLayout: SystemLayout = {
  system: "wuhan-tong",

  cardNumberFor(_product, sequence) {
    return String(sequence).padStart(10, "0");
  },

  identityFiles(product, identity): IdentityFiles {
    if (!/^\d{10}$/.test(identity.cardNumber)) throw new RangeError("a Wuhan Tong card number has 10 digits");
    const serial = bcd(identity.cardNumber, 5);
    const from = bcdDate(identity.validFrom);
    const to = bcdDate(identity.validTo);
    const asn = concat(new Uint8Array(3), serial);
    const ef05 = new Uint8Array(32);
    ef05.set(fromHex(CITY), 2);
    ef05.set(to, 16);
    ef05.set(from, 20);
    ef05[24] = 0x01;
    const ef0a = concat(serial, new Uint8Array(11));
    const ef15 = concat(
      bcd(product.issuer.code, 2),
      fromHex(CITY),
      new Uint8Array(4),
      Uint8Array.of(0x01, 0x01),
      new Uint8Array(2),
      asn,
      from,
      to,
      new Uint8Array(2),
    );
    return {
      binaries: [
        { sfi: 0x05, data: ef05 },
        { sfi: 0x0a, data: ef0a },
        { sfi: 0x15, data: ef15 },
      ],
      asn,
    };
  },

  decodeIdentity(files): Result<DecodedIdentity> {
    const ef05 = files.get(0x05);
    const ef0a = files.get(0x0a);
    const ef15 = files.get(0x15);
    let serial: Bytes;
    let from: Bytes;
    let to: Bytes;
    if (ef05 && ef0a && ef05.length >= 25 && ef0a.length >= 5) {
      serial = ef0a.subarray(0, 5);
      to = ef05.subarray(16, 20);
      from = ef05.subarray(20, 24);
    } else if (ef15 && ef15.length >= 28) {
      serial = ef15.subarray(15, 20);
      from = ef15.subarray(20, 24);
      to = ef15.subarray(24, 28);
    } else return err("Wuhan Tong EF05/EF0A and EF15 missing or too short");
    const cardNumber = readBcd(serial);
    if (!cardNumber) return err("Wuhan Tong serial is not BCD");
    const v = validity(from, to, "Wuhan Tong");
    if (!v.ok) return v;
    return decodedIdentity(
      { cardNumber, ...v.value, asn: concat(new Uint8Array(3), serial) },
      { scheme: "mohurd", code: ef15 && ef15.length >= 4 ? toHex(ef15.subarray(2, 4)) : CITY },
      productOfSystem("wuhan-tong"),
    );
  },
};
