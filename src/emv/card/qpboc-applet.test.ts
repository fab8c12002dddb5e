/**
 * The qPBOC applet on its own (personalised by our builder, driven APDU by APDU as the SE would): FCI,
 * GPO decisions (online, offline with fDDA, CDCVM, decline), records, log, GET DATA, issuer authentication.
 * PBOC CVN 01 cryptogram checked against the PBOC blog vector's keys (cnblogs.com/1024Planet/p/6256545.html).
 */
import { describe, expect, it } from "vitest";
import { command, encodeCommand } from "../../core/apdu.js";
import { type Bytes, bcd, concat, fromHex, toHex } from "../../core/bytes.js";
import { buildDolData, parseDol } from "../../core/dol.js";
import { SW } from "../../core/sw.js";
import { findTag, parseTlv, tlv } from "../../core/tlv.js";
import { recoverSignedDynamicData } from "../../crypto/index.js";
import { personalisedApplet, selectCommand, send, testIccKey } from "../../../test/emv-support.js";
import { acData, applicationCryptogram, arpc, sessionKey } from "../cryptogram.js";
import { decodeCvr, decodeIad } from "../iad.js";
import { AID, UNIONPAY_PDOL } from "../profile.js";

interface GpoOptions {
  ttq?: string;
  amount?: number;
  currency?: string;
  un?: string;
}

function gpoCommand(o: GpoOptions = {}): Bytes {
  const values = new Map<number, Bytes>([
    [0x9f66, fromHex(o.ttq ?? "3280C080")],
    [0x9f02, bcd(o.amount ?? 1234, 6)],
    [0x9f03, bcd(0, 6)],
    [0x9f1a, fromHex("0156")],
    [0x95, new Uint8Array(5)],
    [0x5f2a, fromHex(o.currency ?? "0156")],
    [0x9a, fromHex("260301")],
    [0x9c, fromHex("00")],
    [0x9f37, fromHex(o.un ?? "11223344")],
  ]);
  const pdol = parseDol(UNIONPAY_PDOL);
  if (!pdol.ok) throw new Error(pdol.error);
  return encodeCommand(command(0x80, 0xa8, 0, 0, tlv(0x83, buildDolData(pdol.value, values)), 256));
}

function fields(data: Bytes): Map<number, Bytes> {
  const t = parseTlv(data);
  if (!t.ok || t.value[0]?.tag !== 0x77) throw new Error("not a format 2 answer");
  return new Map(t.value[0].children!.map((n) => [n.tag, n.value]));
}

function selected(card = {}, fdda = true) {
  const p = personalisedApplet(card, fdda);
  const fci = p.applet.select(selectCommand(AID.debit), p.ctx);
  expect(fci.sw).toBe(SW.OK);
  return { ...p, fci };
}

describe("QpbocApplet", () => {
  it("answers SELECT with its DF name, label, priority and the UnionPay PDOL", () => {
    const { fci } = selected();
    const t = parseTlv(fci.data);
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    expect(toHex(findTag(t.value, 0x84)!.value)).toBe("A000000333010101");
    expect(new TextDecoder().decode(findTag(t.value, 0x50)!.value)).toBe("PBOC DEBIT");
    expect(toHex(findTag(t.value, 0x87)!.value)).toBe("01");
    expect(toHex(findTag(t.value, 0x9f38)!.value)).toBe(toHex(UNIONPAY_PDOL));
    expect(toHex(findTag(t.value, 0x9f4d)!.value)).toBe("0B0A");
  });

  it("goes online when the reader requires it: ARQC over the PBOC data list, ATC incremented", () => {
    const { applet, ctx, udk } = selected();
    const r = send(applet, ctx, gpoCommand({ ttq: "3280C080" }));
    expect(r.sw).toBe(SW.OK);
    const f = fields(r.data);
    for (const tag of [0x82, 0x94, 0x9f36, 0x57, 0x9f10, 0x9f26, 0x5f34, 0x9f6c])
      expect(f.has(tag)).toBe(true);
    expect(f.has(0x9f27)).toBe(false); // as the traced UnionPay card (docs/DECISIONS.md)
    expect(f.has(0x9f4b)).toBe(false);
    expect(toHex(f.get(0x9f36)!)).toBe("0001");
    const iad = decodeIad(f.get(0x9f10)!);
    expect(iad.ok && toHex(iad.value.cvr)).toBe("03A00000");
    if (!iad.ok) return;
    const data = acData({
      amount: bcd(1234, 6),
      otherAmount: bcd(0, 6),
      terminalCountry: fromHex("0156"),
      tvr: new Uint8Array(5),
      currency: fromHex("0156"),
      date: fromHex("260301"),
      type: fromHex("00"),
      unpredictableNumber: fromHex("11223344"),
      aip: f.get(0x82)!,
      atc: f.get(0x9f36)!,
      cvr: iad.value.cvr,
    })!;
    expect(toHex(f.get(0x9f26)!)).toBe(
      toHex(applicationCryptogram(sessionKey(udk, 1, "3des"), data, "3des")),
    );
    expect(ctx.store.get("atc")).toBe(1);
  });

  it("approves offline with fDDA v01 when the amount fits the offline balance", () => {
    const { applet, ctx } = selected();
    const r = send(applet, ctx, gpoCommand({ ttq: "3200C080", amount: 100_00, un: "A1B2C3D4" }));
    expect(r.sw).toBe(SW.OK);
    const f = fields(r.data);
    const iad = decodeIad(f.get(0x9f10)!);
    expect(iad.ok && decodeCvr(iad.value.cvr)).toMatchObject({ ok: true, value: { type: "TC" } });
    expect(toHex(f.get(0x9f5d)!)).toBe("000000040000"); // 500.00 − 100.00
    // The signature verifies with the card's key over 9F37 ‖ 9F02 ‖ 5F2A ‖ 9F69 (read from the last record).
    const rec = send(
      applet,
      ctx,
      encodeCommand(command(0x00, 0xb2, 2, (3 << 3) | 4, new Uint8Array(0), 256)),
    );
    const t = parseTlv(rec.data);
    expect(t.ok).toBe(true);
    if (!t.ok) return;
    const cardAuth = findTag(t.value, 0x9f69)!.value;
    expect(cardAuth[0]).toBe(0x01);
    expect(toHex(cardAuth.subarray(5))).toBe(toHex(f.get(0x9f6c)!));
    const key = testIccKey();
    const sdad = recoverSignedDynamicData(
      key,
      f.get(0x9f4b)!,
      concat(fromHex("A1B2C3D4"), bcd(100_00, 6), fromHex("0156"), cardAuth),
    );
    expect(sdad.ok && toHex(sdad.value.iccDynamicNumber)).toBe("0001");
  });

  it("goes online instead when the currency is foreign or the balance too small", () => {
    for (const o of [{ currency: "0978" }, { amount: 600_00 }]) {
      const { applet, ctx } = selected();
      const f = fields(send(applet, ctx, gpoCommand({ ttq: "3200C080", ...o })).data);
      const iad = decodeIad(f.get(0x9f10)!);
      expect(iad.ok && decodeCvr(iad.value.cvr)).toMatchObject({ ok: true, value: { type: "ARQC" } });
    }
  });

  describe("CDCVM", () => {
    it("does not pay above the CVM limit without a verification on the phone (AAC)", () => {
      const { applet, ctx } = selected();
      const f = fields(send(applet, ctx, gpoCommand({ ttq: "32C0C080", amount: 1500_00 })).data);
      const iad = decodeIad(f.get(0x9f10)!);
      expect(iad.ok && decodeCvr(iad.value.cvr)).toMatchObject({
        ok: true,
        value: { type: "AAC", cdcvm: false },
      });
    });

    it("pays after a fingerprint within the window, saying so in the CTQ and the CVR", () => {
      const { applet, ctx } = selected();
      ctx.verifiedAt = new Date(ctx.clock.now().getTime() - 60_000);
      const f = fields(send(applet, ctx, gpoCommand({ ttq: "32C0C080", amount: 1500_00 })).data);
      const iad = decodeIad(f.get(0x9f10)!);
      expect(iad.ok && decodeCvr(iad.value.cvr)).toMatchObject({
        ok: true,
        value: { type: "ARQC", cdcvm: true },
      });
      expect(f.get(0x9f6c)![1]! & 0x80).toBe(0x80);
    });

    it("forgets a verification older than the window (300 s by default)", () => {
      const { applet, ctx } = selected();
      ctx.verifiedAt = new Date(ctx.clock.now().getTime() - 301_000);
      const f = fields(send(applet, ctx, gpoCommand({ ttq: "32C0C080", amount: 1500_00 })).data);
      const iad = decodeIad(f.get(0x9f10)!);
      expect(iad.ok && decodeCvr(iad.value.cvr)).toMatchObject({ ok: true, value: { type: "AAC" } });
    });

    it("asks for a signature when the reader cannot take CDCVM but the user verified", () => {
      const { applet, ctx } = selected();
      ctx.verifiedAt = ctx.clock.now();
      const f = fields(send(applet, ctx, gpoCommand({ ttq: "32C00080", amount: 1500_00 })).data);
      expect(f.get(0x9f6c)![0]! & 0x40).toBe(0x40);
    });
  });

  it("refuses a second GPO in one selection and a GPO with the wrong PDOL length", () => {
    const { applet, ctx } = selected();
    expect(send(applet, ctx, gpoCommand()).sw).toBe(SW.OK);
    expect(send(applet, ctx, gpoCommand()).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
    const other = selected();
    const short = encodeCommand(command(0x80, 0xa8, 0, 0, tlv(0x83, new Uint8Array(10)), 256));
    expect(send(other.applet, other.ctx, short).sw).toBe(SW.WRONG_LENGTH);
    expect(other.ctx.store.get("atc")).toBe(0);
  });

  it("asks for another interface when the reader does not do qPBOC", () => {
    const { applet, ctx } = selected();
    expect(send(applet, ctx, gpoCommand({ ttq: "10800000" })).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });

  it("serves every AFL record, the log, and GET DATA", () => {
    const { applet, ctx } = selected();
    const f = fields(send(applet, ctx, gpoCommand({ ttq: "32800000" })).data);
    const afl = f.get(0x94)!;
    for (let i = 0; i < afl.length; i += 4) {
      for (let rec = afl[i + 1]!; rec <= afl[i + 2]!; rec++) {
        const r = send(
          applet,
          ctx,
          encodeCommand(command(0, 0xb2, rec, afl[i]! | 4, new Uint8Array(0), 256)),
        );
        expect(r.sw).toBe(SW.OK);
        expect(r.data[0]).toBe(0x70);
      }
    }
    expect(
      send(applet, ctx, encodeCommand(command(0, 0xb2, 9, (1 << 3) | 4, new Uint8Array(0), 256))).sw,
    ).toBe(SW.RECORD_NOT_FOUND);
    const log = send(
      applet,
      ctx,
      encodeCommand(command(0, 0xb2, 1, (0x0b << 3) | 4, new Uint8Array(0), 256)),
    );
    expect(log.sw).toBe(SW.OK);
    expect(log.data.length).toBe(45);
    expect(toHex(log.data.subarray(0, 3))).toBe("260301");
    expect(
      toHex(send(applet, ctx, encodeCommand(command(0x80, 0xca, 0x9f, 0x36, new Uint8Array(0), 256))).data),
    ).toBe("9F36020001");
    expect(send(applet, ctx, encodeCommand(command(0x80, 0xca, 0x9f, 0x17, new Uint8Array(0), 256))).sw).toBe(
      SW.REFERENCED_DATA_NOT_FOUND,
    );
  });

  it("checks the issuer's ARPC once per session and remembers a failure in the next CVR", () => {
    const { applet, ctx, udk } = selected();
    const f = fields(send(applet, ctx, gpoCommand()).data);
    const sk = sessionKey(udk, 1, "3des");
    const good = concat(arpc(sk, f.get(0x9f26)!, fromHex("3030"), "3des"), fromHex("3030"));
    const bad = good.slice();
    bad[0]! ^= 1;
    expect(send(applet, ctx, encodeCommand(command(0, 0x82, 0, 0, bad))).sw).toBe(SW.VERIFY_FAILED);
    expect(send(applet, ctx, encodeCommand(command(0, 0x82, 0, 0, good))).sw).toBe(
      SW.CONDITIONS_NOT_SATISFIED,
    );
    applet.select(selectCommand(AID.debit), ctx);
    const next = fields(send(applet, ctx, gpoCommand()).data);
    const iad = decodeIad(next.get(0x9f10)!);
    expect(iad.ok && decodeCvr(iad.value.cvr)).toMatchObject({
      ok: true,
      value: { issuerAuthFailedLastOnline: true },
    });
    const sk2 = sessionKey(udk, 2, "3des");
    const ok2 = concat(arpc(sk2, next.get(0x9f26)!, fromHex("3030"), "3des"), fromHex("3030"));
    expect(send(applet, ctx, encodeCommand(command(0, 0x82, 0, 0, ok2))).sw).toBe(SW.OK);
    expect(ctx.store.get("issuerAuthFailed")).toBe(false);
  });

  it("derives the PBOC blog card's keys: its AC for ATC 0240 is a MAC under the blog's session key", () => {
    // IMK F0C3…6EAC, PAN 6228000100001, PSN 01, ATC 0240 → SK D4102725E6E5AD329E55AAB50BF23DA9 (PBOC blog).
    const imk = fromHex("F0C34A8124CEE0A91A0B034AA97D6EAC");
    const { applet, ctx } = personalisedApplet({ pan: "6228000100001", psn: "01" }, false, imk);
    ctx.store.put("atc", 0x023f);
    applet.select(selectCommand(AID.debit), ctx);
    const f = fields(send(applet, ctx, gpoCommand({ ttq: "32800000", amount: 1, un: "1E78EEBC" })).data);
    expect(toHex(f.get(0x9f36)!)).toBe("0240");
    const iad = decodeIad(f.get(0x9f10)!);
    if (!iad.ok) throw new Error(iad.error);
    const data = acData({
      amount: bcd(1, 6),
      otherAmount: bcd(0, 6),
      terminalCountry: fromHex("0156"),
      tvr: new Uint8Array(5),
      currency: fromHex("0156"),
      date: fromHex("260301"),
      type: fromHex("00"),
      unpredictableNumber: fromHex("1E78EEBC"),
      aip: f.get(0x82)!,
      atc: fromHex("0240"),
      cvr: iad.value.cvr,
    })!;
    const blogSessionKey = fromHex("D4102725E6E5AD329E55AAB50BF23DA9");
    expect(toHex(f.get(0x9f26)!)).toBe(toHex(applicationCryptogram(blogSessionKey, data, "3des")));
  });

  it("takes pyemv's ICC master key for PAN 9901234567890123 / PSN 45 (IMK 0123…3210): DGI 8000 F84315C7…, KCV 1DA5", () => {
    // pyemv tests/test_kd_hsm.py (github knovichikhin/pyemv), reference vectors/emv/pyemv.json.
    const { dgis, applet, ctx } = personalisedApplet({ pan: "9901234567890123", psn: "45" }, false);
    expect(toHex(dgis.find((d) => d.dgi === 0x8000)!.data)).toBe("F84315C7B95BD3B0C74694922C3808B0");
    expect(toHex(dgis.find((d) => d.dgi === 0x9000)!.data).slice(0, 4)).toBe("1DA5");
    expect(applet.select(selectCommand(AID.debit), ctx).sw).toBe(SW.OK);
    expect(send(applet, ctx, gpoCommand()).sw).toBe(SW.OK);
  });

  it("refuses personalisation with a wrong key check value", () => {
    const { applet, ctx } = personalisedApplet();
    expect(applet.personalize(0x9000, fromHex("000000"), ctx)).toBe(SW.WRONG_DATA);
    expect(applet.select(selectCommand(AID.debit), ctx).sw).toBe(SW.OK);
    expect(send(applet, ctx, gpoCommand()).sw).toBe(SW.CONDITIONS_NOT_SATISFIED);
  });
});
