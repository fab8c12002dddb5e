/**
 * Acceptance: each refusal by its own test — a replayed ARQC (same ATC), a changed amount, a suspended and a
 * deleted token, a corrupted ICC certificate (fDDA fails, then the CTQ decides), an amount above the CVM
 * limit without CDCVM.
 */
import { describe, expect, it } from "vitest";
import { bcd, fromHex, toHex } from "../src/core/bytes.js";
import { parseTlv, tlv } from "../src/core/tlv.js";
import type { Dgi } from "../src/emv/card/personalisation.js";
import { RECORD } from "../src/emv/card/layout.js";
import type { AuthorisationRequest } from "../src/emv/authorisation.js";
import { Pos } from "../src/emv/terminal/pos.js";
import { FUNDING_PAN, quickPassWorld, replaceTag } from "./emv-support.js";

/** An online request the POS built for a real tap, without sending it (the issuer is called by the test). */
async function capturedRequest(w: Awaited<ReturnType<typeof quickPassWorld>>, amount: number) {
  let captured: AuthorisationRequest | undefined;
  const real = w.issuer;
  const pos = new Pos({
    config: w.config,
    clock: w.clock,
    random: w.random,
    issuer: {
      authorise: async (req) => {
        captured = req;
        return real.authorise(req);
      },
    },
  });
  const r = await pos.pay(w.link, amount);
  expect(r.status).toBe("approved");
  return captured!;
}

describe("refused", () => {
  it("a replayed ARQC: the same request again (same ATC) → 94 duplicate", async () => {
    const w = await quickPassWorld();
    const req = await capturedRequest(w, 12_34);
    const again = await w.issuer.authorise(req);
    expect(again.approved).toBe(false);
    expect(again.responseCode).toBe("94");
    expect(again.reason).toBe("atc-replay");
    expect((await w.issuer.account(FUNDING_PAN))?.available).toBe(10_000_00 - 12_34);
  });

  it("an old ATC below the window → 94", async () => {
    const w = await quickPassWorld();
    const req = await capturedRequest(w, 1_00);
    const t = await w.issuer.token(w.issued.token);
    // The issuer has since seen ATC 41 (the window keeps the last 32).
    await w.store.transaction(async (tx) => {
      await tx.saveToken({ ...t!, atc: { highest: 41, recent: [41] } });
    });
    const old = await w.issuer.authorise(req);
    expect([old.responseCode, old.reason]).toEqual(["94", "atc-too-old"]);
  });

  it("an ATC too far ahead of the last one seen → 05 (offline taps moved it beyond the window)", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00, atcWindow: { behind: 32, ahead: 2 } });
    for (let i = 0; i < 3; i++) expect((await w.pos.pay(w.link, 10_00)).decidedBy).toBe("card");
    const r = await w.pos.pay(w.link, 400_00); // over the floor limit: online, ATC 4 > 0 + 2
    expect(toHex(r.outcome.card!.atc)).toBe("0004");
    expect([r.authorisation?.response.responseCode, r.reason.code]).toEqual(["05", "atc-jump"]);
  });

  it("a changed amount: field 4 differs from 9F02 → 13; 9F02 changed too → the ARQC fails, 05", async () => {
    const w = await quickPassWorld();
    // A fresh tap whose request we alter before the issuer sees it.
    let changed: AuthorisationRequest | undefined;
    const pos = new Pos({
      config: w.config,
      clock: w.clock,
      random: w.random,
      issuer: {
        authorise: async (req) => {
          changed = req;
          return w.issuer.authorise({ ...req, amount: 1_00 });
        },
      },
    });
    const r = await pos.pay(w.link, 12_34);
    expect(r.status).toBe("declined");
    expect(r.authorisation?.response.responseCode).toBe("13");
    const f55 = fromHex(changed!.field55);
    const tampered = { ...changed!, amount: 1_00, field55: toHex(replaceTag(f55, 0x9f02, bcd(1_00, 6))) };
    const resp = await w.issuer.authorise(tampered);
    expect([resp.responseCode, resp.reason]).toEqual(["05", "cryptogram-invalid"]);
    expect(resp.issuerAuthenticationData).toBeUndefined();
    expect((await w.issuer.account(FUNDING_PAN))?.available).toBe(10_000_00);
  });

  it("a suspended token → 62; resumed, it pays again", async () => {
    const w = await quickPassWorld();
    await w.issuer.setTokenStatus(w.issued.token, "suspended");
    const r = await w.pos.pay(w.link, 5_00);
    expect(r.status).toBe("declined");
    expect([r.authorisation?.response.responseCode, r.reason.code]).toEqual(["62", "token-suspended"]);
    await w.issuer.setTokenStatus(w.issued.token, "active");
    expect((await w.pos.pay(w.link, 5_00)).status).toBe("approved");
  });

  it("a deleted token → 14, and it cannot be reactivated", async () => {
    const w = await quickPassWorld();
    await w.issuer.setTokenStatus(w.issued.token, "deleted");
    const r = await w.pos.pay(w.link, 5_00);
    expect(r.status).toBe("declined");
    expect([r.authorisation?.response.responseCode, r.reason.code]).toEqual(["14", "token-deleted"]);
    await expect(w.issuer.setTokenStatus(w.issued.token, "active")).rejects.toThrow(/deleted/);
  });

  describe("a corrupted ICC certificate: fDDA fails, then the CTQ decides", () => {
    /** Flips one bit inside the ICC public key certificate (9F46) of the record that carries it. */
    const corrupt = (dgis: Dgi[]): Dgi[] =>
      dgis.map((d) => {
        if (d.dgi !== ((RECORD.iccKey.sfi << 8) | RECORD.iccKey.record)) return d;
        const rec = parseTlv(d.data);
        if (!rec.ok) throw new Error(rec.error);
        const fields = rec.value[0]!.children!.map((t) => {
          if (t.tag !== 0x9f46) return t;
          const cert = t.value.slice();
          cert[40]! ^= 0x01;
          return { tag: t.tag, value: cert };
        });
        return { dgi: d.dgi, data: tlv(0x70, fields) };
      });

    it("CTQ 'go online if ODA fails' (our tokens' default) → online request with DF61, approved", async () => {
      const w = await quickPassWorld({ floorLimit: 300_00, tamper: corrupt });
      const r = await w.pos.pay(w.link, 100_00);
      expect(r.outcome.card?.fdda).toBe("failed");
      expect(r.outcome.kind).toBe("online-request");
      expect(r.outcome.reason.code).toBe("fdda-failed-online");
      const f55 = parseTlv(r.outcome.field55!);
      expect(f55.ok && toHex(f55.value.find((t) => t.tag === 0xdf61)!.value)).toBe("01");
      expect(r.status).toBe("approved");
    });

    it("CTQ 'switch interface if ODA fails' → try another interface", async () => {
      const w = await quickPassWorld({ floorLimit: 300_00, tamper: corrupt, ctq: fromHex("1000") });
      const r = await w.pos.pay(w.link, 100_00);
      expect(r.outcome.card?.fdda).toBe("failed");
      expect(r.status).toBe("try-another-interface");
      expect(r.authorisation).toBeUndefined();
    });

    it("neither bit → declined", async () => {
      const w = await quickPassWorld({ floorLimit: 300_00, tamper: corrupt, ctq: fromHex("0000") });
      const r = await w.pos.pay(w.link, 100_00);
      expect(r.outcome.card?.fdda).toBe("failed");
      expect([r.status, r.reason.code]).toEqual(["declined", "fdda-failed"]);
    });
  });

  it("an amount above the CVM limit without CDCVM: the card declines (AAC), the POS says 'see phone'", async () => {
    const w = await quickPassWorld();
    const r = await w.pos.pay(w.link, 1000_01);
    expect(r.status).toBe("declined");
    expect(r.outcome.card).toBeUndefined();
    expect(r.reason.code).toBe("see-phone");
    expect(r.authorisation).toBeUndefined();
    // ¥1000.00 itself is still 双免 (no CVM needed).
    expect((await w.pos.pay(w.link, 1000_00)).status).toBe("approved");
  });

  it("an amount above the issuer's no-CVM limit without CDCVM in the CVR → 57 (even from a lax terminal)", async () => {
    const w = await quickPassWorld();
    const lax = new Pos({
      config: { ...w.config, aids: w.config.aids.map((a) => ({ ...a, cvmRequiredLimit: null })) },
      clock: w.clock,
      random: w.random,
      issuer: w.issuer,
    });
    const r = await lax.pay(w.link, 1500_00);
    expect(r.outcome.kind).toBe("online-request");
    expect([r.authorisation?.response.responseCode, r.reason.code]).toEqual(["57", "cvm-required"]);
  });
});
