/**
 * The issuer host on its own: token issuance and lifecycle, limits and funds, untrusted requests, and the
 * PBOC blog transaction (cnblogs.com/1024Planet/p/6256545.html, reference vectors/emv/
 * pboc-cvn01-arqc-arpc.json) verified at the issuer level with its ARPC checked against the blog's session key.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../../core/bytes.js";
import { ManualClock } from "../../core/clock.js";
import { seededRandom } from "../../se/testing/random.js";
import type { AuthorisationRequest } from "../authorisation.js";
import { arpc } from "../cryptogram.js";
import { demoIssuerPki } from "../pki/issuer-pki.js";
import { encodeTrack2, isLuhnValid, luhnCheckDigit } from "../track2.js";
import { IssuerHost, StaticIssuerKeys } from "./host.js";
import { MemoryIssuerStore } from "./store.js";
import { TokenVault } from "./vault.js";
import { FUNDING_PAN, quickPassWorld } from "../../../test/emv-support.js";

const FPAN = (() => {
  const b = "622202123456789012";
  return b + luhnCheckDigit(b);
})();

function host(
  clock = new ManualClock("2026-03-01T04:00:00Z"),
  imk = fromHex("0123456789ABCDEFFEDCBA9876543210"),
  dki = 1,
) {
  const random = seededRandom(11);
  const store = new MemoryIssuerStore();
  const vault = new TokenVault(random(32), random);
  const keys = new StaticIssuerKeys(dki, new Map([[StaticIssuerKeys.id(dki, "3des"), imk]]));
  const h = new IssuerHost({
    store,
    keys,
    vault,
    clock,
    random,
    tokenBin: "629977",
    pki: demoIssuerPki("629977"),
  });
  return { h, store, vault, clock };
}

describe("token issuance and lifecycle", () => {
  it("issues a Luhn-valid token from the BIN, with personalisation data, and stores the PAN only encrypted", async () => {
    const { h, store } = host();
    await h.openAccount({ fundingPan: FPAN, holder: "王小明", available: 100_00 });
    const t = await h.issueToken({ fundingPan: FPAN, kind: "credit", offline: { balance: 200_00 } });
    expect(t.token).toMatch(/^629977\d{10}$/);
    expect(isLuhnValid(t.token)).toBe(true);
    expect(t.expiry).toMatch(/^29\d{4}$/);
    expect(t.personalisation.map((d) => d.dgi.toString(16))).toEqual(
      expect.arrayContaining(["101", "201", "301", "302", "8000", "9000", "9102", "9104", "9200", "8205"]),
    );
    expect(JSON.stringify(store.snapshot())).not.toContain(FPAN);
    expect((await h.token(t.token))?.fundingLast4).toBe(FPAN.slice(-4));
  });

  it("refuses a funding card without an account, without showing its number", async () => {
    const { h } = host();
    const e = await h.issueToken({ fundingPan: FPAN, kind: "debit" }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    expect(String((e as Error).message)).not.toContain(FPAN);
  });

  it("moves active ⇄ suspended, and deleted for good", async () => {
    const { h } = host();
    await h.openAccount({ fundingPan: FPAN, holder: "x", available: 0 });
    const { token } = await h.issueToken({ fundingPan: FPAN, kind: "debit" });
    await h.setTokenStatus(token, "suspended");
    expect((await h.token(token))?.status).toBe("suspended");
    await h.setTokenStatus(token, "active");
    await h.setTokenStatus(token, "deleted");
    await expect(h.setTokenStatus(token, "suspended")).rejects.toThrow();
    await expect(h.setTokenStatus("6299770000000000", "active")).rejects.toThrow();
  });
});

describe("authorisation input is untrusted", () => {
  it("answers any malformed request with a response code, never an exception", async () => {
    const { h } = host();
    const hex = fc.uint8Array({ maxLength: 80 }).map(toHex);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          stan: fc.integer(),
          terminalId: fc.string(),
          merchantId: fc.string(),
          amount: fc.oneof(fc.integer(), fc.double()),
          currency: fc.oneof(fc.constant("0156"), fc.string()),
          track2: fc.oneof(
            hex,
            fc.string(),
            fc.constant(
              toHex(
                encodeTrack2({
                  pan: "6299770000000018",
                  expiry: "2912",
                  serviceCode: "201",
                  discretionary: "",
                }),
              ),
            ),
          ),
          panSequenceNumber: fc.oneof(fc.constant("00"), fc.string()),
          posEntryMode: fc.constant("07"),
          field55: fc.oneof(hex, fc.string()),
          cvm: fc.constantFrom("none", "cdcvm", "signature", "online-pin"),
          transmittedAt: fc.constant("2026-03-01T04:00:00Z"),
        }),
        async (req) => {
          const r = await h.authorise(req as AuthorisationRequest);
          expect(r.approved).toBe(false);
          expect(r.responseCode).toMatch(/^\d\d$/);
        },
      ),
      { numRuns: 3_000 },
    );
  });
});

describe("the PBOC blog transaction at the issuer", () => {
  it("verifies the published ARQC 5D016C91005E7CC2 and answers with the ARPC under the blog's session key", async () => {
    // Card: PAN 6228000100001, PSN 01, ATC 0240, 2014-07-01; IMK-AC F0C34A8124CEE0A91A0B034AA97D6EAC.
    const { h, store, vault } = host(
      new ManualClock("2014-07-01T02:00:00Z"),
      fromHex("F0C34A8124CEE0A91A0B034AA97D6EAC"),
      0, // the blog card's DKI (IAD byte 2)
    );
    await h.openAccount({ fundingPan: FPAN, holder: "blog", available: 100_00 });
    await store.transaction(async (tx) =>
      tx.saveToken({
        token: "6228000100001",
        psn: "01",
        expiry: "251231",
        status: "active",
        fundingPan: vault.seal(FPAN, "6228000100001"),
        fundingLast4: FPAN.slice(-4),
        dki: 0,
        algorithm: "3des",
        createdAt: "2014-01-01T00:00:00Z",
        limits: { perTransaction: 5000_00, dailyAmount: 20000_00, dailyCount: 50, noCvm: 1000_00 },
        atc: { highest: 0, recent: [] },
        day: { date: "20140701", amount: 0, count: 0 },
      }),
    );
    const f55 =
      "9F26085D016C91005E7CC29F2701809F101307000103A04002010A010000001000D1F611529F37041E78EEBC9F360202409505008004600" +
      "09A031407019C01009F02060000000000015F2A02015682027D009F1A0201569F03060000000000009F3303" +
      "60E1C89F34030203009F3501229F1E0838333230494343009F090200209F410400000007";
    const req: AuthorisationRequest = {
      stan: 7,
      terminalId: "TW000001",
      merchantId: "898310048160001",
      amount: 1,
      currency: "0156",
      track2: toHex(
        encodeTrack2({ pan: "6228000100001", expiry: "2512", serviceCode: "201", discretionary: "" }),
      ),
      panSequenceNumber: "01",
      posEntryMode: "07",
      field55: f55,
      cvm: "none",
      transmittedAt: "2014-07-01T02:00:00Z",
    };
    const r = await h.authorise(req);
    expect([r.responseCode, r.reason]).toEqual(["00", "approved"]);
    const blogSk = fromHex("D4102725E6E5AD329E55AAB50BF23DA9");
    expect(r.issuerAuthenticationData).toBe(
      toHex(arpc(blogSk, fromHex("5D016C91005E7CC2"), fromHex("3030"), "3des")) + "3030",
    );
    // And the blog's own ARPC for ARC "01" comes from the same function and key.
    expect(toHex(arpc(blogSk, fromHex("5D016C91005E7CC2"), fromHex("3031"), "3des"))).toBe(
      "21415243527CE78F",
    );
  });
});

describe("limits and funds", () => {
  it("declines over the per-payment limit (61), the daily count (65) and the funds (51)", async () => {
    const w = await quickPassWorld();
    const t = (await w.issuer.token(w.issued.token))!;
    await w.store.transaction((tx) =>
      tx.saveToken({ ...t, limits: { ...t.limits, perTransaction: 50_00, dailyCount: 2 } }),
    );
    expect((await w.pos.pay(w.link, 60_00)).reason.code).toBe("per-transaction-limit");
    expect((await w.pos.pay(w.link, 10_00)).status).toBe("approved");
    expect((await w.pos.pay(w.link, 10_00)).status).toBe("approved");
    expect((await w.pos.pay(w.link, 10_00)).reason.code).toBe("daily-count-limit");
    w.clock.advance(24 * 3600_000);
    expect((await w.pos.pay(w.link, 10_00)).status).toBe("approved"); // a new day
    await w.issuer.openAccount({ fundingPan: FUNDING_PAN, holder: "测试用户", available: 5_00 });
    expect((await w.pos.pay(w.link, 10_00)).reason.code).toBe("insufficient-funds");
  });
});
