/**
 * Acceptance, end to end: a token issued by our issuer host, installed on a phone's SE through the card
 * manager (SCP03), paying at our POS (entry point + C-7 kernel) — online, approved by the issuer with the
 * ARPC verified by the card; and offline with fDDA v01 under Tapwallet's test CA.
 */
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../src/core/bytes.js";
import { parseTlv } from "../src/core/tlv.js";
import { formatReceipt } from "../src/emv/terminal/receipt.js";
import { FUNDING_PAN, quickPassWorld } from "./emv-support.js";

describe("QuickPass end to end (issuer → SE → POS)", () => {
  it("pays ¥12.34 online: the issuer approves, the card verifies the ARPC, the receipt shows the token", async () => {
    const w = await quickPassWorld();
    const r = await w.pos.pay(w.link, 12_34);
    expect(r.status).toBe("approved");
    expect(r.decidedBy).toBe("issuer");
    expect(r.outcome.kind).toBe("online-request");
    expect(r.outcome.card?.cryptogramType).toBe("ARQC");
    expect(r.authorisation?.response.responseCode).toBe("00");
    expect(r.authorisation?.response.authorisationCode).toMatch(/^\d{6}$/);
    expect(r.issuerAuthentication).toBe("verified");
    expect((await w.issuer.account(FUNDING_PAN))?.available).toBe(10_000_00 - 12_34);
    const receipt = formatReceipt(r, w.config).join("\n");
    expect(receipt).toContain("交易成功 / APPROVED");
    expect(receipt).toContain("RMB 12.34");
    expect(receipt).toContain(w.issued.token.slice(-4));
    expect(receipt).not.toContain(w.issued.token); // masked
    expect(receipt).not.toContain(FUNDING_PAN.slice(0, 12));
  });

  it("pays ¥100.00 offline under the floor limit: fDDA v01 passes, the offline balance drops", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    const r = await w.pos.pay(w.link, 100_00);
    expect(r.status).toBe("approved");
    expect(r.decidedBy).toBe("card");
    expect(r.outcome.card?.cryptogramType).toBe("TC");
    expect(r.outcome.card?.fdda).toBe("passed");
    expect(r.outcome.card?.offlineBalance).toBe(400_00);
    expect(r.authorisation).toBeUndefined();
    // The clearing record's field 55 carries the TC.
    const f55 = parseTlv(r.outcome.field55!);
    expect(f55.ok && toHex(f55.value.find((t) => t.tag === 0x9f27)!.value)).toBe("40");
    // Funds move only when the issuer sees the clearing; the account is untouched so far.
    expect((await w.issuer.account(FUNDING_PAN))?.available).toBe(10_000_00);
  });

  it("goes online when the offline balance is too small, and approves", async () => {
    const w = await quickPassWorld({ floorLimit: 300_00, offlineBalance: 50_00 });
    const r = await w.pos.pay(w.link, 100_00);
    expect(r.outcome.card?.cryptogramType).toBe("ARQC");
    expect(r.status).toBe("approved");
  });

  it("works with an SM4-issued token (SM profile) online", async () => {
    const w = await quickPassWorld({ algorithm: "sm4" });
    const r = await w.pos.pay(w.link, 88_00);
    expect(r.status).toBe("approved");
    expect(r.issuerAuthentication).toBe("verified");
    const iad = r.outcome.card!.iad;
    expect(iad[7]).toBe(0x04); // algorithm id SM4 (docs/DECISIONS.md)
  });

  it("counts ATCs across taps and pays several times", async () => {
    const w = await quickPassWorld();
    const atcs: string[] = [];
    for (const amount of [1_00, 2_00, 3_00]) {
      const r = await w.pos.pay(w.link, amount);
      expect(r.status).toBe("approved");
      atcs.push(toHex(r.outcome.card!.atc));
    }
    expect(atcs).toEqual(["0001", "0002", "0003"]);
    const history = await w.issuer.history(w.issued.token);
    expect(history.map((a) => [a.atc, a.amount, a.responseCode])).toEqual([
      [1, 1_00, "00"],
      [2, 2_00, "00"],
      [3, 3_00, "00"],
    ]);
    expect(JSON.stringify(history)).not.toContain(FUNDING_PAN);
  });

  it("declines a payment above the CVM limit without a verification on the phone, pays after one", async () => {
    const w = await quickPassWorld();
    const refused = await w.pos.pay(w.link, 1288_00);
    expect(refused.status).toBe("declined");
    expect(refused.decidedBy).toBe("card");
    expect(refused.reason.code).toBe("see-phone");
    w.phone.verifiedAt = w.clock.now();
    const paid = await w.pos.pay(w.link, 1288_00);
    expect(paid.status).toBe("approved");
    expect(paid.outcome.cvm).toBe("cdcvm");
    expect(formatReceipt(paid, w.config).join("\n")).toContain("CDCVM");
  });

  it("keeps the token's funding PAN out of every answer and receipt", async () => {
    const w = await quickPassWorld();
    const r = await w.pos.pay(w.link, 5_00);
    const everything = JSON.stringify({
      r: { ...r, outcome: { ...r.outcome, field55: toHex(r.outcome.field55!) } },
      receipt: formatReceipt(r, w.config),
    });
    expect(everything).not.toContain(FUNDING_PAN);
    expect(toHex(fromHex(r.authorisation!.request.track2)).startsWith(w.issued.token)).toBe(true);
  });
});
