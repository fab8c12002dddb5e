/**
 * Beijing Yikatong (北京市政交通一卡通, BMAC), reference transit.md §1.4, §2.3 (Metrodroid `BeijingTransitData`,
 * nfcard `BeijingMunicipal`, Xiaomi `BMACCardHandler`, Huami `PayCityBeijin`).
 *
 * MF EF04 (32 B): card number 8 (16 digits, shown as hex) ‖ version 3 (byte 9 = 02: "not negative") ‖ RFU 13 ‖
 * valid from 4 (0x18) ‖ valid to 4 (0x1C). MF EF05: flag 1 (A5 = blacklisted) ‖ transaction count 4 ‖
 * overdraft 4 — the applet computes it from the purse. The e-purse (balance, EF18) is in ADF 1001.
 * ASN (key diversification) = the card number.
 */
import { type Bytes, concat, fromHex, toHex } from "../../core/bytes.js";
import { type Result, err } from "../../core/result.js";
import { productOfSystem } from "../catalogue.js";
import { bcdDate } from "../records.js";
import { decodedIdentity, validity } from "./decoded.js";
import type { DecodedIdentity, IdentityFiles, SystemLayout } from "./types.js";

export const BEIJING_ADF_FID = 0x1001;

export const beijingLayout: SystemLayout = {
  system: "beijing",

  cardNumberFor(_product, sequence) {
    return `1000${String(sequence).padStart(12, "0")}`;
  },

  identityFiles(_product, identity): IdentityFiles {
    if (!/^\d{16}$/.test(identity.cardNumber)) throw new RangeError("a Beijing card number has 16 digits");
    const number = fromHex(identity.cardNumber);
    const ef04 = concat(
      number,
      Uint8Array.of(0x01, 0x02, 0x00),
      new Uint8Array(13),
      bcdDate(identity.validFrom),
      bcdDate(identity.validTo),
    );
    return { binaries: [{ sfi: 0x04, data: ef04 }], asn: number };
  },

  decodeIdentity(files): Result<DecodedIdentity> {
    const ef04: Bytes | undefined = files.get(0x04);
    if (!ef04 || ef04.length < 32) return err("Beijing EF04 missing or shorter than 32 bytes");
    const v = validity(ef04.subarray(0x18, 0x1c), ef04.subarray(0x1c, 0x20), "Beijing EF04");
    if (!v.ok) return v;
    return decodedIdentity(
      { cardNumber: toHex(ef04.subarray(0, 8)), ...v.value, asn: ef04.slice(0, 8) },
      { scheme: "mohurd", code: "1000" },
      productOfSystem("beijing"),
    );
  },
};
