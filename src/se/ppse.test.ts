import { describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import { findTag, parseTlv } from "../core/tlv.js";
import { createTestSecureElement, installForTest, tap } from "./testing/provision.js";
import { samplePackage } from "./testing/sample-applets.js";

const SELECT_PPSE = "00A404000E325041592E5359532E444446303100";

function listed(answer: string): { aid: string; label: string; priority: number; kernel?: string }[] {
  const t = parseTlv(fromHex(answer.slice(0, -4)));
  if (!t.ok) throw new Error(t.error);
  const dir = findTag(t.value, 0xbf0c)!;
  return dir.children!.map((app) => {
    const get = (tag: number) => app.children!.find((c) => c.tag === tag)?.value;
    const kernel = get(0x9f2a);
    return {
      aid: toHex(get(0x4f)!),
      label: new TextDecoder().decode(get(0x50)!),
      priority: get(0x87)![0]!,
      ...(kernel ? { kernel: toHex(kernel) } : {}),
    };
  });
}

let locked = false;
function phone() {
  locked = false;
  return createTestSecureElement({
    packages: [samplePackage],
    host: { locked: () => locked, lastUserVerification: () => null },
  });
}

describe("PPSE", () => {
  it("answers byte for byte like the real UnionPay card of the qPBOC trace (emv.md §1.1)", () => {
    const se = phone();
    installForTest(se, {
      packageId: "test.applet",
      aid: fromHex("A000000333010101"),
      params: { category: "payment", label: "PBOC DEBIT", priority: 1 },
    });
    se.activate();
    expect(tap(se, SELECT_PPSE)).toEqual([
      "6F30840E325041592E5359532E4444463031A51EBF0C1B61194F08A000000333010101500A50424F43204445424954870101" +
        "9000",
    ]);
  });

  it("lists active instances by priority, the default payment card first, renumbered 1, 2, …", () => {
    const se = phone();
    installForTest(se, {
      packageId: "test.applet",
      aid: fromHex("A000000333010102"),
      params: { category: "payment", label: "CREDIT", priority: 2 },
    });
    installForTest(se, {
      packageId: "test.applet",
      aid: fromHex("A000000333010101"),
      params: { category: "payment", label: "DEBIT", priority: 1, kernelId: 7 },
    });
    installForTest(se, {
      packageId: "test.applet",
      aid: fromHex("A000000632010105"),
      params: { category: "transit", label: "MOT_T_EP", priority: 3 },
    });
    installForTest(se, {
      packageId: "test.applet",
      aid: fromHex("A000000333010106"),
      params: { category: "payment", label: "EC", priority: 1 },
    });
    se.registry.deactivate(fromHex("A000000333010106"));
    se.activate();
    expect(listed(tap(se, SELECT_PPSE)[0]!)).toEqual([
      { aid: "A000000333010101", label: "DEBIT", priority: 1, kernel: "07" },
      { aid: "A000000333010102", label: "CREDIT", priority: 2 },
      { aid: "A000000632010105", label: "MOT_T_EP", priority: 3 },
    ]);
    expect(se.registry.setDefaultPayment(fromHex("A000000333010102")).ok).toBe(true);
    expect(listed(tap(se, SELECT_PPSE)[0]!).map((e) => [e.label, e.priority])).toEqual([
      ["CREDIT", 1],
      ["DEBIT", 2],
      ["MOT_T_EP", 3],
    ]);
  });

  it("answers 6A82 when no active instance has a PPSE entry", () => {
    const se = phone();
    installForTest(se, {
      packageId: "test.applet",
      aid: fromHex("A000000333010101"),
      params: { category: "payment", label: "DEBIT" },
      activate: false,
    });
    se.activate();
    expect(tap(se, SELECT_PPSE)).toEqual(["6A82"]);
    se.registry.activate(fromHex("A000000333010101"));
    expect(tap(se, SELECT_PPSE)[0]).toMatch(/9000$/);
  });

  it("lists only the express transit card while the phone is locked", () => {
    const se = phone();
    installForTest(se, {
      packageId: "test.applet",
      aid: fromHex("A000000333010101"),
      params: { category: "payment", label: "DEBIT" },
    });
    installForTest(se, {
      packageId: "test.applet",
      aid: fromHex("A000000632010105"),
      params: { category: "transit", label: "MOT_T_EP", priority: 2 },
    });
    se.activate();
    locked = true;
    expect(tap(se, SELECT_PPSE)).toEqual(["6A82"]);
    se.registry.setExpressTransit(fromHex("A000000632010105"));
    expect(listed(tap(se, SELECT_PPSE)[0]!).map((e) => e.label)).toEqual(["MOT_T_EP"]);
    locked = false;
    expect(listed(tap(se, SELECT_PPSE)[0]!).map((e) => e.label)).toEqual(["DEBIT", "MOT_T_EP"]);
  });

  it("sends a PPSE longer than 256 bytes with 61XX and GET RESPONSE", () => {
    const se = phone();
    for (let i = 0; i < 12; i++)
      installForTest(se, {
        packageId: "test.applet",
        aid: fromHex(`A0000003330101${(i + 16).toString(16).toUpperCase()}`),
        params: {
          category: "payment",
          label: `BANK CARD NO ${i.toString().padStart(2, "0")}`,
          priority: i + 1,
        },
      });
    se.activate();
    const [first, rest] = tap(se, SELECT_PPSE, "00C0000000");
    expect(first!.slice(-4, -2)).toBe("61");
    expect(first!.length).toBe(2 * 258);
    expect(rest!.endsWith("9000")).toBe(true);
    const whole = first!.slice(0, -4) + rest!;
    expect(listed(whole)).toHaveLength(12);
    expect(listed(whole).map((e) => e.priority)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
});
