/**
 * The e-purse applet on the virtual SE, command by command: the textbook purchase (cnblogs.com/ttss/p/4280430
 * .html, reference/vectors/transit/pboc_blog_vectors.json) reproduced at card level, the City Union 80CA code
 * in MAC1, GET BALANCE forms, overdraft, counters, compound purchase rules and GET TRANSACTION PROVE.
 */
import { describe, expect, it } from "vitest";
import { concat, fromHex, toHex, uintBE } from "../../core/bytes.js";
import { appletNamespace } from "../../se/instances.js";
import { Transaction } from "../../se/store.js";
import { TxType, loadMac2, loadSessionKey, purchaseMac1, purchaseSessionKey } from "../epurse-crypto.js";
import { TEXTBOOK_KEY, TEXTBOOK_RANDOM, type TextbookCard, textbookCard } from "../testing/textbook-card.js";

const KEY = TEXTBOOK_KEY;
const RANDOM = TEXTBOOK_RANDOM;

/** A load of `amount` with a MAC2 made by the test from the textbook key. */
const load = (send: TextbookCard["send"], amount: number, onlineAtc: number): string => {
  const [init] = send(`805000020B01${toHex(uintBE(amount, 4))}001122334455`);
  expect(init!.endsWith("9000")).toBe(true);
  const ses = loadSessionKey(KEY, RANDOM, onlineAtc, "3des");
  const f = { amount, type: TxType.EP_LOAD, terminal: fromHex("001122334455") };
  const mac2 = toHex(loadMac2(ses, "3des", f, fromHex("20260302"), fromHex("083000")));
  return send(`805200000B20260302083000${mac2}`)[0]!;
};

describe("card-level textbook purchase", () => {
  it("accepts MAC1 F15CAB75 and answers MAC2 56988A13 (after loading 0x1000)", () => {
    const { send } = textbookCard();
    expect(load(send, 0x1000, 0)).toMatch(/^[0-9A-F]{8}9000$/);
    // INITIALIZE FOR PURCHASE as in the textbook: key index 01, amount 00001000, terminal 001122334455.
    expect(send("805001020B0100001000001122334455")[0]).toBe(
      "00001000" + "0000" + "000000" + "01" + "00" + "11223344" + "9000",
    );
    const [debit] = send("805401000F" + "00000001" + "20120229135100" + "F15CAB75");
    expect(debit).toMatch(/^[0-9A-F]{8}56988A139000$/);
    expect(send("805C000204")[0]).toBe("000000009000");
  });

  it("refuses a wrong MAC1 with 9302 and leaves the balance, counter and log alone", () => {
    const { send } = textbookCard();
    load(send, 0x1000, 0);
    send("805001020B0100001000001122334455");
    expect(send("805401000F0000000120120229135100F15CAB76")[0]).toBe("9302");
    expect(send("805C000204")[0]).toBe("000010009000");
    expect(send("00B202C400")[0]).toBe("6A83");
    // The session is over: the right MAC1 now is too late.
    expect(send("805401000F0000000120120229135100F15CAB75")[0]).toBe("6985");
  });

  it("load: MAC1 is the textbook computation for an EP load, a wrong MAC2 is 9302 and changes nothing", () => {
    const { send } = textbookCard();
    const [init] = send("805000020B0100001000001122334455");
    const ses = loadSessionKey(KEY, RANDOM, 0, "3des");
    expect(toHex(ses)).toBe("9B1D924E05595603");
    expect(init!.slice(0, 24)).toBe("00000000" + "0000" + "01" + "00" + "11223344");
    expect(send("805200000B20111221214822" + "00000000")[0]).toBe("9302");
    expect(send("805C000204")[0]).toBe("000000009000");
  });
});

describe("City Union: the 80CA security code is in the purchase MAC1", () => {
  it("answers GET DATA 80CA and accepts only a MAC1 that covers the code", () => {
    const { send, code } = textbookCard({ productId: "shanghai" });
    expect(code).toHaveLength(9);
    expect(send("80CA000009")[0]).toBe(toHex(code!) + "9000");
    load(send, 1000, 0);
    const f = {
      amount: 100,
      type: TxType.EP_PURCHASE,
      terminal: fromHex("001122334455"),
      date4: fromHex("20260302"),
      time3: fromHex("083100"),
    };
    const debit = (mac1: Uint8Array) => {
      send("805001020B0100000064001122334455");
      return send(`805401000F0000000120260302083100${toHex(mac1)}`)[0]!;
    };
    const ses = purchaseSessionKey(KEY, RANDOM, 0, fromHex("00000001"), "3des");
    expect(debit(purchaseMac1(ses, "3des", f))).toBe("9302");
    expect(debit(purchaseMac1(ses, "3des", f, code))).toMatch(/^[0-9A-F]{16}9000$/);
  });
});

describe("GET BALANCE", () => {
  it("Shenzhen Tong answers in excess-2^31", () => {
    const { send } = textbookCard({ productId: "shenzhen-tong" });
    load(send, 2850, 0);
    expect(send("805C000204")[0]).toBe("80000B229000");
  });

  it("T-Union: P1 00/03 balance, 01/02 overdraft used, 05 balance ‖ max balance ‖ RFU; others refused", () => {
    const { send } = textbookCard({ overdraftLimit: 500, maxBalance: 500000 });
    load(send, 300, 0);
    send("805001020B0100000190001122334455"); // 400 > 300: 100 on overdraft
    const ses = purchaseSessionKey(KEY, RANDOM, 0, fromHex("00000001"), "3des");
    const f = {
      amount: 400,
      type: 6,
      terminal: fromHex("001122334455"),
      date4: fromHex("20260302"),
      time3: fromHex("090000"),
    };
    expect(send(`805401000F0000000120260302090000${toHex(purchaseMac1(ses, "3des", f))}`)[0]).toMatch(
      /9000$/,
    );
    expect(send("805C000204", "805C030204", "805C010204", "805C020204")).toEqual([
      "000000009000",
      "000000009000",
      "000000649000",
      "000000649000",
    ]);
    expect(send("805C050210")[0]).toBe("00000000" + "0007A120" + "0000000000000000" + "9000");
    expect(send("805C040204")[0]).toBe("6A86");
    // A load repays the overdraft first.
    load(send, 1000, 1);
    expect(send("805C000204", "805C010204")).toEqual(["000003849000", "000000009000"]);
  });
});

describe("limits and counters", () => {
  it("refuses a purchase beyond balance + overdraft (9401) and a load beyond the maximum balance (6A80)", () => {
    const { send } = textbookCard({ maxBalance: 2000 });
    load(send, 1500, 0);
    expect(send("805001020B01000005DD001122334455")[0]).toBe("9401");
    expect(send("805000020B01000001F5001122334455")[0]).toBe("6A80");
    expect(send("805003020B0100000000001122334455")[0]).toMatch(/9000$/);
  });

  it("refuses a wrong key index (9403), a wrong length (6700) and an unknown P1 (6A86)", () => {
    const { send } = textbookCard();
    expect(
      send(
        "805001020B0200000001001122334455",
        "805001020A01000000010011223344",
        "805002020B0100000001001122334455",
      ),
    ).toEqual(["9403", "6700", "6A86"]);
  });

  it("answers 9402 once the offline counter is at its maximum", () => {
    const { se, aid, send } = textbookCard();
    load(send, 1000, 0);
    const t = new Transaction(se.nvm);
    t.put(appletNamespace(toHex(aid)), "atc.offline", 0xffff);
    t.commit();
    expect(send("805001020B0100000001001122334455")[0]).toBe("9402");
  });
});

describe("compound purchase and proofs", () => {
  const record = (id: number) => toHex(concat(Uint8Array.of(0x27, id, 0x7d), new Uint8Array(125).fill(0xab)));

  it("needs a CAPP session for 80DC, the right length and addressing, and an 80DC before the DEBIT", () => {
    const { send } = textbookCard();
    load(send, 1000, 0);
    expect(send(`80DC01D480${record(1)}`)[0]).toBe("6985");
    send("805003020B0100000000001122334455");
    expect(send(`80DC01D47F${record(1).slice(0, 254)}`)[0]).toBe("6700");
    expect(send(`80DC01D080${record(1)}`)[0]).toBe("6A86");
    expect(send(`80DC09D480${record(1)}`)[0]).toBe("6A83");
    const ses = purchaseSessionKey(KEY, RANDOM, 0, fromHex("00000001"), "3des");
    const f = {
      amount: 0,
      type: 9,
      terminal: fromHex("001122334455"),
      date4: fromHex("20260302"),
      time3: fromHex("090000"),
    };
    const mac1 = toHex(purchaseMac1(ses, "3des", f));
    expect(send(`805401000F0000000120260302090000${mac1}`)[0]).toBe("6985");
  });

  it("writes the compound record with the debit and proves the last transaction", () => {
    const { send } = textbookCard();
    load(send, 1000, 0);
    send("805003020B0100000064001122334455");
    expect(send(`80DC01D480${record(1)}`)[0]).toBe("9000");
    const ses = purchaseSessionKey(KEY, RANDOM, 0, fromHex("00000007"), "3des");
    const f = {
      amount: 100,
      type: 9,
      terminal: fromHex("001122334455"),
      date4: fromHex("20260302"),
      time3: fromHex("090000"),
    };
    const [debit] = send(`805401000F0000000720260302090000${toHex(purchaseMac1(ses, "3des", f))}`);
    expect(debit).toMatch(/^[0-9A-F]{16}9000$/);
    expect(send("00B201D400")[0]).toBe(record(1) + "9000");
    const tac = debit!.slice(0, 8);
    const mac2 = debit!.slice(8, 16);
    expect(send("805A0009020001")[0]).toBe(mac2 + tac + "9000");
    expect(send("805A0009020002", "805A0006020001")).toEqual(["9406", "9406"]);
    expect(send("00B201C400")[0]!.slice(0, 20)).toBe("0001" + "000000" + "00000064" + "09");
  });
});

describe("T-Union discovery", () => {
  it("lists MOT_T_CASH and MOT_T_EP in the PPSE and answers the EC AID with its FCI and an EC balance of 0", () => {
    const { send } = textbookCard();
    const [ppse] = send("00A404000E325041592E5359532E444446303100");
    expect(ppse).toContain("4F08A000000632010106500A4D4F545F545F43415348870101");
    expect(ppse).toContain("4F08A00000063201010550084D4F545F545F4550870102");
    const [cash] = send("00A4040008A00000063201010600");
    expect(cash).toMatch(/^6F.*500A4D4F545F545F43415348.*9000$/);
    expect(send("80CA9F7900", "805C000204")).toEqual(["9F79060000000000009000", "6985"]);
    // Selected as the EP again, the purse answers.
    expect(send("00A4040008A00000063201010500")[0]).toMatch(/9000$/);
    expect(send("805C000204")[0]).toBe("000000009000");
  });
});
