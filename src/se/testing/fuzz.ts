/**
 * Test support: fuzzing the SE (src/se/fuzz.test.ts runs it in CI, bench/fuzz.ts for longer). A phone's SE
 * with a payment, a transit, a file-based and a plain instance; sessions of raw bytes and well-formed APDUs of
 * the classes and instructions the SE and its applets know, often right after a valid SELECT.
 */
import fc from "fast-check";
import { encodeCommand } from "../../core/apdu.js";
import { type Bytes, fromHex } from "../../core/bytes.js";
import type { SecureElement } from "../secure-element.js";
import { createTestSecureElement, installForTest } from "./provision.js";
import { fileSamplePackage, samplePackage } from "./sample-applets.js";

export const AIDS = ["A000000333010101", "A0000006320101051001", "A00000000386980701", "D1560000000001"].map(
  fromHex,
);

/** A phone's SE with four instances, the debit card the default. */
export function phone(): SecureElement {
  const se = createTestSecureElement({ packages: [samplePackage, fileSamplePackage], seed: 9 });
  installForTest(se, {
    packageId: "test.applet",
    aid: AIDS[0]!,
    params: { category: "payment", label: "DEBIT", big: 700 },
  });
  installForTest(se, {
    packageId: "test.applet",
    aid: AIDS[1]!,
    params: { category: "transit", selectionAids: ["A000000632010105"], writes: 4 },
  });
  installForTest(se, { packageId: "test.files", aid: AIDS[2]! });
  installForTest(se, { packageId: "test.applet", aid: AIDS[3]!, params: {} });
  se.registry.setDefaultPayment(AIDS[0]!);
  se.activate();
  return se;
}

export const select = (name: Bytes) =>
  encodeCommand({ cla: 0, ins: 0xa4, p1: 4, p2: 0, data: name, ne: 256 });

/** Raw bytes, or a well-formed APDU of a class and instruction the SE or its applets know. */
const apdu = fc.oneof(
  fc.uint8Array({ maxLength: 48 }),
  fc
    .record({
      cla: fc.constantFrom(0x00, 0x80, 0x84, 0x04, 0x01, 0x40, 0x10, 0xff, 0x0c),
      ins: fc.oneof(
        fc.constantFrom(0xa4, 0xb0, 0xd6, 0xb2, 0xdc, 0xe2, 0xc0, 0x70, 0x10, 0x12, 0x14, 0x16, 0xee, 0x5c),
        fc.constantFrom(0x50, 0x82, 0xe6, 0xe4, 0xf2, 0xf0, 0xca),
        fc.integer({ min: 0, max: 255 }),
      ),
      p1: fc.integer({ min: 0, max: 255 }),
      p2: fc.integer({ min: 0, max: 255 }),
      data: fc.uint8Array({ maxLength: 300 }),
      ne: fc.option(fc.integer({ min: 1, max: 65536 }), { nil: undefined }),
    })
    .map((c) => encodeCommand(c.ne === undefined ? { ...c, ne: undefined } : c)),
);

export const sessions = (names: Bytes[]) =>
  fc.record({
    selectFirst: fc.option(fc.constantFrom(...names), { nil: null }),
    commands: fc.array(apdu, { minLength: 1, maxLength: 5 }),
  });

/** An answer ending in a status word of ISO 7816 (61xx–6Fxx, 9xxx; never 60xx). */
export function wellFormed(answer: Bytes): boolean {
  if (answer.length < 2) return false;
  const sw1 = answer[answer.length - 2]!;
  return sw1 !== 0x60 && (sw1 >> 4 === 0x6 || sw1 >> 4 === 0x9);
}
