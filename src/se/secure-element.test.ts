import { describe, expect, it } from "vitest";
import { encodeCommand } from "../core/apdu.js";
import { fromHex, toHex } from "../core/bytes.js";
import type { HostSignals } from "./applet.js";
import type { SecureElement } from "./secure-element.js";
import { createTestSecureElement, installForTest, tap } from "./testing/provision.js";
import { fileSamplePackage, samplePackage } from "./testing/sample-applets.js";

const A1 = "A0000006320101051001"; // partial-match family A0000006320101…
const A2 = "A0000006320101052002";
const B = "B0000000010203";
const CONTACT = "D1560000000001";

const select = (aid: string, p2 = 0) =>
  toHex(encodeCommand({ cla: 0, ins: 0xa4, p1: 4, p2, data: fromHex(aid), ne: 256 }));
const fciOf = (aid: string) => {
  const n = aid.length / 2;
  return `6F${(n + 8).toString(16).padStart(2, "0").toUpperCase()}84${n.toString(16).padStart(2, "0").toUpperCase()}${aid}A504544553549000`;
};

/** An SE whose selected applet answers 80 14 with 600 bytes. */
function bigAnswerSe(): SecureElement {
  const se = createTestSecureElement({ packages: [samplePackage] });
  installForTest(se, { packageId: "test.applet", aid: fromHex(B), params: { category: "other", big: 600 } });
  se.activate();
  tap(se, select(B));
  return se;
}

function seWith(signals?: HostSignals): SecureElement {
  const se = createTestSecureElement({
    packages: [samplePackage, fileSamplePackage],
    ...(signals ? { host: signals } : {}),
  });
  installForTest(se, { packageId: "test.applet", aid: fromHex(A1), params: { category: "other" } });
  installForTest(se, { packageId: "test.applet", aid: fromHex(A2), params: { category: "other" } });
  installForTest(se, {
    packageId: "test.applet",
    aid: fromHex(B),
    params: { category: "other", selectionAids: ["F0010203040506"] },
  });
  installForTest(se, { packageId: "test.applet", aid: fromHex(CONTACT), params: {} });
  se.activate();
  return se;
}

describe("SELECT by DF name", () => {
  it("selects by full AID and answers the applet's FCI", () => {
    const se = seWith();
    expect(tap(se, select(B))).toEqual([fciOf(B)]);
    expect(tap(se, "8010000004", "8012000004")).toEqual(["000000019000", "000000019000"]);
  });

  it("selects by partial AID: first, next, last and previous occurrence in install order", () => {
    const se = seWith();
    const partial = "A000000632010105";
    // the applet's FCI echoes the name it was selected by; count tells which instance answered
    tap(se, select(A2), "8010000004", "8010000004"); // A2's counter = 2
    tap(se, select(A1), "8010000004"); // A1's counter = 1
    const countOf = () => tap(se, "8012000004")[0];
    expect(tap(se, select(partial, 0x00))).toEqual([fciOf(partial)]);
    expect(countOf()).toBe("000000019000"); // first = A1
    tap(se, select(partial, 0x02));
    expect(countOf()).toBe("000000029000"); // next = A2
    expect(tap(se, select(partial, 0x02))).toEqual(["6A82"]); // no occurrence after A2
    expect(countOf()).toBe("000000029000"); // and A2 stays selected
    tap(se, select(partial, 0x03));
    expect(countOf()).toBe("000000019000"); // previous = A1
    tap(se, select(partial, 0x01));
    expect(countOf()).toBe("000000029000"); // last = A2
  });

  it("matches an instance's extra selection AIDs", () => {
    const se = seWith();
    expect(tap(se, select("F0010203040506"))).toEqual([fciOf("F0010203040506")]);
    expect(tap(se, select("F00102"))).toEqual([fciOf("F00102")]);
  });

  it("P2 = 0C answers no data; reserved P2 bits are refused", () => {
    const se = seWith();
    expect(tap(se, select(B, 0x0c))).toEqual(["9000"]);
    expect(tap(se, select(B, 0x10))).toEqual(["6A86"]);
  });

  it("answers 6A82 when nothing matches, keeping the current application", () => {
    const se = seWith();
    tap(se, select(B), "8010000004");
    expect(tap(se, select("A0000000031010"), select(""))).toEqual(["6A82", "6A82"]);
    expect(tap(se, "8012000004")).toEqual(["000000019000"]);
  });

  it("does not reach contact-only or deactivated instances from the field, only from the host", () => {
    const se = seWith();
    expect(tap(se, select(CONTACT))).toEqual(["6A82"]);
    expect(se.registry.deactivate(fromHex(B)).ok).toBe(true);
    expect(tap(se, select(B))).toEqual(["6A82"]);
    expect(toHex(se.host.transmit(fromHex(select(B))))).toBe(fciOf(B));
    expect(toHex(se.host.transmit(fromHex(select(CONTACT))))).toBe(fciOf(CONTACT));
  });

  it("keeps the card manager and the CRS off the field", () => {
    const se = seWith();
    expect(tap(se, select("A000000151000000"), select("A00000015143525300"))).toEqual(["6A82", "6A82"]);
    expect(toHex(se.host.transmit(fromHex(select("A00000015143525300"))))).toBe(
      "6F0B8409A000000151435253009000",
    );
  });

  it("ends a selection when the instance is deactivated or the phone gets locked", () => {
    let locked = false;
    const se = seWith({ locked: () => locked, lastUserVerification: () => null });
    tap(se, select(B));
    se.registry.deactivate(fromHex(B));
    expect(tap(se, "8012000004")).toEqual(["6D00"]);
    se.registry.activate(fromHex(B));
    tap(se, select(B));
    locked = true;
    expect(tap(se, "8012000004")).toEqual(["6D00"]);
  });

  it("the host interface selects the card manager by default and with an empty SELECT", () => {
    const se = seWith();
    expect(toHex(se.host.transmit(fromHex("00A4040000")))).toBe("6F108408A000000151000000A5049F6501FF9000");
  });
});

describe("commands, channels and transactions", () => {
  it("answers 6881 on other logical channels and to MANAGE CHANNEL, 6884 to command chaining", () => {
    const se = seWith();
    expect(tap(se, "01A4040007" + B, "4100000000", "0070000001", "10A4040007" + B)).toEqual([
      "6881",
      "6881",
      "6881",
      "6884",
    ]);
  });

  it("answers malformed APDUs with a status word", () => {
    const se = seWith();
    expect(tap(se, "", "00", "00A404", "00A4040005A000", "FFA4040000")).toEqual([
      "6700",
      "6700",
      "6700",
      "6700",
      "6E00",
    ]);
  });

  it("answers 6D00 when no application is selected", () => {
    const se = seWith();
    expect(tap(se, "8012000004", "00A4000002" + "3F00")).toEqual(["6D00", "6A82"]);
  });

  it("rolls back an applet that throws and answers 6F00", () => {
    const se = seWith();
    tap(se, select(B), "8010000004");
    const before = se.nvm.snapshot();
    expect(tap(se, "80EE000000")).toEqual(["6F00"]);
    expect(se.nvm.snapshot()).toEqual(before);
    expect(tap(se, "8012000004")).toEqual(["000000019000"]);
  });

  it("commits the writes of a command answered with an error status word", () => {
    const se = seWith();
    tap(se, select(B));
    expect(tap(se, "8016000000", "8016000000")).toEqual(["6985", "6985"]);
    expect(se.nvm.snapshot()[`app:${B}`]?.refusals).toBe("2");
  });

  it("sends long answers in pieces: 61XX then GET RESPONSE", () => {
    const se = bigAnswerSe();
    const full = Uint8Array.from({ length: 600 }, (_, i) => i & 0xff);
    const [first, second, third] = tap(se, "8014000000", "00C0000000", "00C0000000");
    expect(first).toBe(toHex(full.subarray(0, 256)) + "6100");
    expect(second).toBe(toHex(full.subarray(256, 512)) + "6158");
    expect(third).toBe(toHex(full.subarray(512)) + "9000");
    // a short Le: pieces of Le bytes
    const [a, b] = tap(se, "8014000010", "00C0000020");
    expect(a).toBe(toHex(full.subarray(0, 16)) + "6100");
    expect(b).toBe(toHex(full.subarray(16, 48)) + "6100");
    // another command drops what was pending
    expect(tap(se, "8012000004", "00C0000000")).toEqual(["000000009000", "6985"]);
  });

  it("an extended Le receives the long answer at once", () => {
    const se = bigAnswerSe();
    const [r] = tap(se, "80140000000000");
    expect(r).toHaveLength(602 * 2);
    expect(r!.endsWith("9000")).toBe(true);
  });

  it("is mute without a field and deselects on field off", () => {
    const se = seWith();
    se.deactivate();
    expect(se.process(fromHex(select(B)))).toHaveLength(0);
    se.activate();
    expect(tap(se, "8012000004")).toEqual(["6D00"]);
  });

  it("presents an ISO-DEP activation with a random 08 UID", () => {
    const se = seWith();
    const a = se.activate();
    expect(a.uid).toHaveLength(4);
    expect(a.uid[0]).toBe(0x08);
    expect(toHex(a.atqa)).toBe("0004");
    expect(a.sak).toBe(0x20);
    expect(a.ats && toHex(a.ats)).toBe("0578807002");
  });

  it("routes file commands to a file-based applet (selection AIDs and FID paths)", () => {
    const se = createTestSecureElement({ packages: [fileSamplePackage] });
    installForTest(se, { packageId: "test.files", aid: fromHex("A0000000038698070101") });
    se.activate();
    expect(
      tap(se, select("A000000003869807"), "00B0950004", "00A40000023F00", "00A4000002000500", "00B0000000"),
    ).toEqual([
      "6F0A8408A0000000038698079000",
      "000000009000",
      "6F0483023F009000",
      "620B80020008820101830200059000",
      "01020304050607089000",
    ]);
  });
});
