/**
 * MOHURD City Union (城市一卡通互联互通, CJ/T 166), AID A00000000386980701 (reference transit.md §1.4, §2.2).
 *
 * EF15 (30 B): issuer code 2 ‖ city code 2 (MOHURD) ‖ industry 2 ‖ RFU 2 ‖ app type 1 (01 enabled) ‖ version 1 ‖
 * RFU 2 ‖ ASN 8 ‖ valid from 4 ‖ valid to 4 ‖ RFU 2. Our ASN: city code 2 ‖ 0000 ‖ serial 4.
 *
 * Card numbers (Metrodroid `CityUnionTransitData`): the serial is EF15[16..19], big-endian for Shanghai
 * (city 2000) and little-endian elsewhere, printed in decimal. Shanghai prints its own number
 * (Xiaomi `CityUCardHandler.getCardNumByLuhm`): the serial as 10 digits, its 2-digit groups in reverse
 * order, and a Luhn check digit in front.
 */
import { type Bytes, bcd, concat, fromHex, readUintBE, readUintLE, toHex, uintBE } from "../../core/bytes.js";
import { type Result, err } from "../../core/result.js";
import { cityUnionProductByCity, type TransitProduct } from "../catalogue.js";
import { bcdDate } from "../records.js";
import { decodedIdentity, validity } from "./decoded.js";
import type { CardIdentity, DecodedIdentity, IdentityFiles, SystemLayout } from "./types.js";

const SHANGHAI = "2000";

/** 2-digit groups in reverse order: "0123456789" → "8967452301". */
function reverseGroups(digits: string): string {
  return (digits.match(/../g) ?? []).reverse().join("");
}

/** The Luhn check digit that would be appended to `digits` (the rightmost digit is doubled). */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = digits.length - 1, k = 0; i >= 0; i--, k++) {
    let d = Number(digits[i]);
    if (k % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** Shanghai's printed card number of a serial. */
export function shanghaiPrintedNumber(serial: number): string {
  const body = reverseGroups(String(serial).padStart(10, "0"));
  return `${luhnCheckDigit(body)}${body}`;
}

/** The serial behind a Shanghai printed number, or null if it is not one (length, check digit, range). */
export function shanghaiSerial(printed: string): number | null {
  if (!/^\d{11}$/.test(printed)) return null;
  const body = printed.slice(1);
  if (luhnCheckDigit(body) !== Number(printed[0])) return null;
  const serial = Number(reverseGroups(body));
  return serial <= 0xffffffff ? serial : null;
}

function serialOf(product: TransitProduct, cardNumber: string): number {
  const serial =
    product.city.code === SHANGHAI
      ? shanghaiSerial(cardNumber)
      : /^\d{1,10}$/.test(cardNumber)
        ? Number(cardNumber)
        : null;
  if (serial === null || serial > 0xffffffff) throw new RangeError(`not a ${product.name.en} card number`);
  return serial;
}

function serialBytes(city: string, serial: number): Bytes {
  const be = uintBE(serial, 4);
  return city === SHANGHAI ? be : be.slice().reverse();
}

function cityUnionEf15(product: TransitProduct, id: CardIdentity): Bytes {
  const city = product.city.code;
  return concat(
    bcd(product.issuer.code, 2),
    fromHex(city),
    new Uint8Array(4),
    Uint8Array.of(0x01, 0x01),
    new Uint8Array(2),
    fromHex(city),
    new Uint8Array(2),
    serialBytes(city, serialOf(product, id.cardNumber)),
    bcdDate(id.validFrom),
    bcdDate(id.validTo),
    new Uint8Array(2),
  );
}

export const cityUnionLayout: SystemLayout = {
  system: "city-union",

  cardNumberFor(product, sequence) {
    return product.city.code === SHANGHAI ? shanghaiPrintedNumber(sequence) : String(sequence);
  },

  identityFiles(product, identity): IdentityFiles {
    const ef15 = cityUnionEf15(product, identity);
    return { binaries: [{ sfi: 0x15, data: ef15 }], asn: ef15.slice(12, 20) };
  },

  decodeIdentity(files): Result<DecodedIdentity> {
    const ef15 = files.get(0x15);
    if (!ef15 || ef15.length < 30) return err("City Union EF15 missing or shorter than 30 bytes");
    const city = toHex(ef15.subarray(2, 4));
    const v = validity(ef15.subarray(20, 24), ef15.subarray(24, 28), "City Union EF15");
    if (!v.ok) return v;
    const cardNumber =
      city === SHANGHAI ? shanghaiPrintedNumber(readUintBE(ef15, 16, 4)) : String(readUintLE(ef15, 16, 4));
    return decodedIdentity(
      { cardNumber, ...v.value, asn: ef15.slice(12, 20) },
      { scheme: "mohurd", code: city },
      cityUnionProductByCity(city),
    );
  },
};
