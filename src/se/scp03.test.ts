/**
 * SCP03 against published vectors: osmocom pySim, tests/unittests/test_globalplatform.py (GPL-2.0+, Harald
 * Welte), classes SCP03_Test_AES128_03 / _11 / _33 — real card exchanges with the AES-128 keyset
 * ENC 000102…0F, MAC 101112…1F, DEK 202122…2F, key version 30. Each class runs, in this order, EXTERNAL
 * AUTHENTICATE, a wrapped GET EID (STORE DATA 80E29100…) whose answer is unwrapped, then four wrapped
 * commands (ISO cases 1–4) in the same session. Only the numbers are used here.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeCommand, parseCommand, response } from "../core/apdu.js";
import { fromHex, toHex } from "../core/bytes.js";
import {
  type Scp03Keys,
  SecureChannel,
  cardCryptogram,
  deriveSessionKeys,
  hostCryptogram,
  parseInitializeUpdateResponse,
  pseudoRandomCardChallenge,
} from "./scp03.js";
import { HostSession, buildScript } from "./scp03-host.js";

const KEYS: Scp03Keys = {
  enc: fromHex("000102030405060708090a0b0c0d0e0f"),
  mac: fromHex("101112131415161718191a1b1c1d1e1f"),
  dek: fromHex("202122232425262728292a2b2c2d2e2f"),
  version: 0x30,
};

const PLAIN = {
  getEid: "80E2910006BF3E035C015A00",
  getEidAnswer: "BF3E125A1089882119900000000000000000000005",
  cases: ["80F22002", "80CA006600", "80F220020A4F0212345C054F9F70C5", "80F28002024F0000"],
};

interface Vector {
  level: number;
  initializeUpdate: string;
  answer: string;
  externalAuthenticate: string;
  getEid: string;
  getEidAnswer: string;
  cases: string[];
}

const VECTORS: Record<string, Vector> = {
  "AES128_03 (C-MAC + C-DECRYPTION)": {
    level: 0x03,
    initializeUpdate: "80503000088E1552D0513C60F300",
    answer: "0000000000000000000030037030760CD2C47C1DD395065FE5EAD8A9D7000001",
    externalAuthenticate: "8482030010FD4721A14D9B07003C451D2F8AE6BB21",
    getEid: "84E2910018CA9C00F6713D79BC8BAA642BDFF51C3F6A4082D3BD9AD26C00",
    getEidAnswer: "BF3E125A1089882119900000000000000000000005",
    cases: [
      "84F2200208C9811B11F1264CF1",
      "84CA006608E10AB60B3054798800",
      "84F22002184E2908BDB48B2315A55482E9E936CA122D6ECFAE7D17416E",
      "84F28002180DD10A6B6193E5340B9E77D32D5A179CD710AC2773AEFB2800",
    ],
  },
  "AES128_11 (C-MAC + R-MAC)": {
    level: 0x11,
    initializeUpdate: "8050300008B13E5F938FC108C400",
    answer: "000000000000000000003003703EB51047495B249F66C484C1D2EF1948000002",
    externalAuthenticate: "84821100107D5F5826A993EBC89EEA24957FA0B3CE",
    getEid: "84E291000EBF3E035C015A558D036518A2829700",
    getEidAnswer: "BF3E125A1089882119900000000000000000000005971BE68992DBBDFA",
    cases: [
      "84F220020863A63F8959827FB2",
      "84CA006608A0C6A4A74166F7CE00",
      "84F22002124F0212345C054F9F70C52249B50272656536",
      "84F280020A4F00E91443F6DCE6B8ED00",
    ],
  },
  "AES128_33 (C-MAC + C-DEC + R-MAC + R-ENC)": {
    level: 0x33,
    initializeUpdate: "8050300008FDF38259A1E0DE4400",
    answer: "000000000000000000003003703B1ACA81E821F219081CDC01C26B372D000003",
    externalAuthenticate: "84823300108C36F96BCC00724A4E13AD591D7DA3F0",
    getEid: "84E2910018267A85DFE4A98FCA6FB0527E0DFECCE4914E40401433C87F00",
    getEidAnswer: "F3BA2B1013AA6224F5E1C138D71805C569E5439B47576260B75FC021B25097CB2E68F8A0144975B9",
    cases: [
      "84F2200208AC6A59024BED84CC",
      "84CA006608409912AD8FB7AED000",
      "84F22002185F3DAFC3AC14C381536A488BF44E06D056DF9D74DBD21E5A",
      "84F280021865165105BE3373347D0424D4400AF2AC393F569EC779389E00",
    ],
  },
};

const cmd = (hex: string) => {
  const c = parseCommand(fromHex(hex));
  if (!c.ok) throw new Error(c.error.reason);
  return c.value;
};

describe.each(Object.entries(VECTORS))("pySim vector %s", (_name, v) => {
  const hostChallenge = fromHex(v.initializeUpdate).slice(5, 13);
  const card = parseInitializeUpdateResponse(fromHex(v.answer));
  if (!card.ok) throw new Error(card.error);
  const sk = deriveSessionKeys(KEYS, hostChallenge, card.value.cardChallenge);

  it("derives the card cryptogram the card sent", () => {
    expect(toHex(cardCryptogram(sk.sMac, hostChallenge, card.value.cardChallenge))).toBe(
      toHex(card.value.cardCryptogram),
    );
  });

  it("host side: builds the same EXTERNAL AUTHENTICATE and wrapped commands", () => {
    const script = buildScript(KEYS, hostChallenge, fromHex(v.answer), [cmd(PLAIN.getEid)], v.level);
    expect(script.ok && script.value.map(toHex)).toEqual([v.externalAuthenticate, v.getEid]);
    const s = HostSession.open(KEYS, hostChallenge, fromHex(v.answer), v.level);
    if (!s.ok) throw new Error(s.error);
    expect(toHex(s.value.externalAuthenticate())).toBe(v.externalAuthenticate);
    expect(toHex(s.value.wrap(cmd(PLAIN.getEid)))).toBe(v.getEid);
    const answer = s.value.unwrap(fromHex(v.getEidAnswer + "9000"));
    expect(answer.ok && toHex(answer.value.data)).toBe(PLAIN.getEidAnswer);
    expect(PLAIN.cases.map((c) => toHex(s.value.wrap(cmd(c))))).toEqual(v.cases);
  });

  it("card side: accepts the same session and protects the answer the same way", () => {
    const ch = new SecureChannel(sk, v.level);
    const ea = ch.unwrapCommand(cmd(v.externalAuthenticate), { decrypt: false });
    expect(ea.ok && toHex(ea.value.data)).toBe(
      toHex(hostCryptogram(sk.sMac, hostChallenge, card.value.cardChallenge)),
    );
    const getEid = ch.unwrapCommand(cmd(v.getEid));
    expect(getEid.ok && toHex(encodeCommand(getEid.value))).toBe(PLAIN.getEid);
    const answer = ch.protectResponse(response(0x9000, fromHex(PLAIN.getEidAnswer)));
    expect(toHex(answer.data)).toBe(v.getEidAnswer);
    const plain = v.cases.map((w) => {
      const u = ch.unwrapCommand(cmd(w));
      return u.ok ? toHex(encodeCommand(u.value)) : u.error;
    });
    expect(plain).toEqual(PLAIN.cases);
  });
});

describe("SCP03 details", () => {
  it("derives the pseudo-random card challenge from the sequence counter and the SD AID", () => {
    // pySim AES128_03: counter 000001, card challenge 30760CD2C47C1DD3; the card is an eUICC whose ISD-R
    // AID is A0000005591010FFFFFFFF8900000100 (SGP.22).
    expect(
      toHex(
        pseudoRandomCardChallenge(KEYS.enc, fromHex("000001"), fromHex("A0000005591010FFFFFFFF8900000100")),
      ),
    ).toBe("30760CD2C47C1DD3");
  });

  it("refuses an INITIALIZE UPDATE answer made with other keys", () => {
    const other = { ...KEYS, mac: fromHex("00".repeat(16)) };
    const v = VECTORS["AES128_03 (C-MAC + C-DECRYPTION)"]!;
    const r = HostSession.open(other, fromHex(v.initializeUpdate).slice(5, 13), fromHex(v.answer), 0x03);
    expect(r.ok).toBe(false);
  });

  it("refuses an answer to another host challenge and an invalid security level", () => {
    const v = VECTORS["AES128_03 (C-MAC + C-DECRYPTION)"]!;
    expect(HostSession.open(KEYS, fromHex("0000000000000000"), fromHex(v.answer), 0x03).ok).toBe(false);
    expect(HostSession.open(KEYS, fromHex(v.initializeUpdate).slice(5, 13), fromHex(v.answer), 0x02).ok).toBe(
      false,
    );
  });

  it("card side refuses a flipped MAC byte, a replay and a command without secure messaging", () => {
    const v = VECTORS["AES128_11 (C-MAC + R-MAC)"]!;
    const hc = fromHex(v.initializeUpdate).slice(5, 13);
    const card = parseInitializeUpdateResponse(fromHex(v.answer));
    if (!card.ok) throw new Error(card.error);
    const sk = deriveSessionKeys(KEYS, hc, card.value.cardChallenge);
    const fresh = () => {
      const ch = new SecureChannel(sk, v.level);
      expect(ch.unwrapCommand(cmd(v.externalAuthenticate), { decrypt: false }).ok).toBe(true);
      return ch;
    };
    const flipped = fromHex(v.getEid);
    flipped[flipped.length - 2]! ^= 0x01;
    expect(fresh().unwrapCommand(cmd(toHex(flipped))).ok).toBe(false);
    const ch = fresh();
    expect(ch.unwrapCommand(cmd(v.getEid)).ok).toBe(true);
    expect(ch.unwrapCommand(cmd(v.getEid)).ok).toBe(false);
    expect(fresh().unwrapCommand(cmd(PLAIN.getEid)).ok).toBe(false);
  });

  it("host and card agree on random commands at every security level (property)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0x01, 0x03, 0x11, 0x13, 0x33),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 255 }),
            fc.uint8Array({ maxLength: 300 }),
            fc.uint8Array({ maxLength: 40 }),
          ),
        ),
        (level, hc, cc, commands) => {
          const sk = deriveSessionKeys(KEYS, hc, cc);
          const host = new SecureChannel(sk, level);
          const card = new SecureChannel(sk, level);
          const ea = host.wrap(
            { cla: 0x80, ins: 0x82, p1: level, p2: 0, data: hostCryptogram(sk.sMac, hc, cc) },
            { encrypt: false },
          );
          expect(card.unwrapCommand(ea, { decrypt: false }).ok).toBe(true);
          for (const [ins, data, answer] of commands) {
            const plain = { cla: 0x80, ins, p1: 1, p2: 2, data, ne: 256 };
            const wire = parseCommand(encodeCommand(host.wrap(plain)));
            if (!wire.ok) throw new Error(wire.error.reason);
            const got = card.unwrapCommand(wire.value);
            expect(got.ok && toHex(got.value.data)).toBe(toHex(data));
            const back = host.unwrapResponse(card.protectResponse(response(0x9000, answer)));
            expect(back.ok && toHex(back.value.data)).toBe(toHex(answer));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
