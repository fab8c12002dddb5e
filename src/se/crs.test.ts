/**
 * The contactless registry over the CRS APDUs the Xiaomi/Huami wallets send (reference/transit.md §4:
 * SELECT A00000015143525300, SET STATUS 80 F0 01 01/00 with 4F AID, conflict 6330 with A0 { 4F AID },
 * GET STATUS 80 F2 40 00/02 with 9F70) and over the typed API.
 */
import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { parseTlv } from "../core/tlv.js";
import type { SecureElement } from "./secure-element.js";
import { createTestSecureElement, installForTest, tap } from "./testing/provision.js";
import { samplePackage } from "./testing/sample-applets.js";

const TU_PUBLIC = "A000000632010105";
const JJJ_TU = "A00000063201010510009156000014A1"; // Jing-Jin-Ji T-Union wallet instance (transit.md §2.3)
const JS_TU = "A000000632010105215053555A484F55"; // Jiangsu T-Union
const SZT = "535A542E57414C4C45542E454E56"; // SZT.WALLET.ENV
const BANK = "A000000333010101";
const DOOR1 = "F0000000D0000001";
const DOOR2 = "F0000000D0000002";
const CONTACT = "D1560000000001";

let locked = false;
function phone(): SecureElement {
  locked = false;
  const se = createTestSecureElement({
    packages: [samplePackage],
    host: { locked: () => locked, lastUserVerification: () => null },
  });
  const install = (aid: string, params: object, activate = false) =>
    installForTest(se, { packageId: "test.applet", aid: fromHex(aid), params: params as never, activate });
  install(JJJ_TU, { category: "transit", selectionAids: [TU_PUBLIC], label: "MOT_T_EP", priority: 2 });
  install(JS_TU, { category: "transit", selectionAids: [TU_PUBLIC], label: "MOT_T_EP", priority: 2 });
  install(SZT, { category: "transit", selectionAids: ["5041592E535A54"] });
  install(BANK, { category: "payment", label: "PBOC DEBIT" });
  install(DOOR1, { category: "access" });
  install(DOOR2, { category: "access" });
  install(CONTACT, {});
  return se;
}

const lc = (aid: string) => (aid.length / 2).toString(16).padStart(2, "0").toUpperCase();
const hostHex = (se: SecureElement, ...apdus: string[]) =>
  apdus.map((a) => toHex(se.host.transmit(fromHex(a))));
const SELECT_CRS = "00A4040009A0000001514352530000";
const setStatus = (aid: string, on: boolean) =>
  `80F001${on ? "01" : "00"}${lc(aid + "4F00")}4F${lc(aid)}${aid}`;
const getStatus = (aid: string, p2 = "00", tags = "") => {
  const data = `4F${lc(aid)}${aid}${tags}`;
  return `80F240${p2}${lc(data)}${data}00`;
};

describe("CRS applet (APDUs)", () => {
  it("activates, reports 9F70 = life cycle ‖ 01 and deactivates", () => {
    const se = phone();
    expect(hostHex(se, SELECT_CRS, setStatus(SZT, true))).toEqual(["6F0B8409A000000151435253009000", "9000"]);
    expect(hostHex(se, getStatus(SZT))).toEqual([`61154F0E${SZT}9F700207019000`]);
    // Huami's P2 = 02 and Xiaomi's tag list 5C 03 4F 9F70 give the same template
    expect(hostHex(se, getStatus(SZT, "02"), getStatus(SZT, "00", "5C034F9F70"))).toEqual([
      `61154F0E${SZT}9F700207019000`,
      `61154F0E${SZT}9F700207019000`,
    ]);
    expect(hostHex(se, getStatus(SZT, "00", "5C029F70"))).toEqual(["61059F700207019000"]);
    expect(hostHex(se, setStatus(SZT, false), getStatus(SZT))).toEqual([
      "9000",
      `61154F0E${SZT}9F700207009000`,
    ]);
  });

  it("answers a conflicting activation with 6330 and A0 { 4F AID }; the wallet deactivates and retries", () => {
    const se = phone();
    expect(hostHex(se, SELECT_CRS, setStatus(JJJ_TU, true), setStatus(JS_TU, true))).toEqual([
      "6F0B8409A000000151435253009000",
      "9000",
      `A0124F10${JJJ_TU}6330`,
    ]);
    expect(hostHex(se, setStatus(JJJ_TU, false), setStatus(JS_TU, true))).toEqual(["9000", "9000"]);
    // the reader's partial SELECT of the public T-Union AID now reaches the Jiangsu card
    se.activate();
    expect(tap(se, `00A4040008${TU_PUBLIC}00`)[0]).toBe(`6F108408${TU_PUBLIC}A504544553549000`);
    tap(se, "8010000004");
    expect(se.nvm.snapshot()[`app:${JS_TU}`]?.count).toBe("1");
  });

  it("lets one door card answer at a time", () => {
    const se = phone();
    expect(hostHex(se, SELECT_CRS, setStatus(DOOR1, true), setStatus(DOOR2, true))).toEqual([
      "6F0B8409A000000151435253009000",
      "9000",
      `A00A4F08${DOOR1}6330`,
    ]);
    expect(toHex(se.registry.activeAccessInstance()!)).toBe(DOOR1);
  });

  it("refuses unknown AIDs, contact-only instances and bad parameters", () => {
    const se = phone();
    expect(hostHex(se, SELECT_CRS, setStatus("A0000000000001", true))[1]).toBe("6A88");
    expect(hostHex(se, setStatus(CONTACT, true))).toEqual(["6985"]);
    expect(
      hostHex(se, `80F00201${lc(BANK + "4F00")}4F${lc(BANK)}${BANK}`, "80F001010100", "80F2400002FFFF00"),
    ).toEqual(["6A86", "6A80", "6A80"]);
    expect(hostHex(se, getStatus("A0FFFF"))).toEqual(["6A88"]);
  });

  it("pages GET STATUS of every instance with 6310 and P2 = 01", () => {
    const se = phone();
    for (let i = 0; i < 14; i++)
      installForTest(se, {
        packageId: "test.applet",
        aid: fromHex(`A00000099900000000${i.toString(16).padStart(2, "0")}`),
        params: { category: "other" },
      });
    const [, first, next] = hostHex(se, SELECT_CRS, "80F24000024F0000", "80F24001024F0000");
    expect(first!.endsWith("6310")).toBe(true);
    expect(next!.endsWith("9000")).toBe(true);
    const templates = (hex: string) => {
      const t = parseTlv(fromHex(hex.slice(0, -4)));
      if (!t.ok) throw new Error(t.error);
      return t.value.map((n) => n.tag);
    };
    // 7 instances of phone() + 14 more, each one 61 template
    expect([...templates(first!), ...templates(next!)]).toEqual(new Array(21).fill(0x61));
  });
});

describe("registry rules (typed API)", () => {
  it("lists instances with category, state and roles", () => {
    const se = phone();
    se.registry.setDefaultPayment(fromHex(BANK));
    const e = se.registry.list().find((x) => toHex(x.aid) === BANK)!;
    expect(e).toMatchObject({
      packageId: "test.applet",
      category: "payment",
      state: "activated",
      defaultPayment: true,
      expressTransit: false,
    });
    expect(se.registry.list().find((x) => toHex(x.aid) === CONTACT)).toMatchObject({
      category: null,
      state: "non-activatable",
    });
  });

  it("keeps one default payment card of category payment; deactivating it clears the role", () => {
    const se = phone();
    expect(se.registry.setDefaultPayment(fromHex(SZT))).toEqual({
      ok: false,
      error: { reason: "wrong_category", category: "transit" },
    });
    expect(se.registry.setDefaultPayment(fromHex(BANK)).ok).toBe(true);
    expect(toHex(se.registry.defaultPayment()!)).toBe(BANK);
    se.registry.deactivate(fromHex(BANK));
    expect(se.registry.defaultPayment()).toBeNull();
    expect(se.registry.setDefaultPayment(fromHex("A0000000000009"))).toEqual({
      ok: false,
      error: { reason: "not_found" },
    });
  });

  it("switching the express transit card takes the role from the previous one", () => {
    const se = phone();
    expect(se.registry.setExpressTransit(fromHex(SZT)).ok).toBe(true);
    expect(se.registry.setExpressTransit(fromHex(JJJ_TU)).ok).toBe(true);
    expect(toHex(se.registry.expressTransit()!)).toBe(JJJ_TU);
    const szt = se.registry.list().find((x) => toHex(x.aid) === SZT)!;
    expect(szt).toMatchObject({ expressTransit: false, state: "activated" });
    // a card that clashes with an active one is refused until the wallet deactivates the other
    const clash = se.registry.setExpressTransit(fromHex(JS_TU));
    expect(
      clash.ok === false && clash.error.reason === "conflict" && clash.error.conflicts.map(toHex),
    ).toEqual([JJJ_TU]);
    expect(toHex(se.registry.expressTransit()!)).toBe(JJJ_TU);
    expect(se.registry.setExpressTransit(fromHex(BANK)).ok).toBe(false);
    expect(se.registry.setExpressTransit(null).ok).toBe(true);
    expect(se.registry.expressTransit()).toBeNull();
  });

  it("with the phone locked only the express transit card answers the field, and no door card", () => {
    const se = phone();
    se.registry.setDefaultPayment(fromHex(BANK));
    se.registry.setExpressTransit(fromHex(SZT));
    se.registry.activate(fromHex(DOOR2));
    se.activate();
    locked = true;
    expect(tap(se, `00A4040008${BANK}00`, `00A40400075041592E535A5400`)).toEqual([
      "6A82",
      "6F0F84075041592E535A54A504544553549000",
    ]);
    expect(se.registry.activeAccessInstance()).toBeNull();
    expect(se.registry.fieldInstances().map((i) => i.hex)).toEqual([SZT]);
    locked = false;
    expect(tap(se, `00A4040008${BANK}00`)[0]).toMatch(/9000$/);
    expect(toHex(se.registry.activeAccessInstance()!)).toBe(DOOR2);
  });

  it("refuses to activate a contact-only instance", () => {
    const se = phone();
    expect(se.registry.activate(fromHex(CONTACT))).toEqual({
      ok: false,
      error: { reason: "not_activatable" },
    });
  });
});
