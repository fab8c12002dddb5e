/**
 * The card manager end to end: our host side (the TSM's) builds the script against the SE's INITIALIZE
 * UPDATE answer, the device relays it over the host interface, the applet is installed and personalised
 * and then answers a SELECT from the field. Tampered, replayed and misdirected scripts are refused.
 */
import { describe, expect, it } from "vitest";
import { type CommandApdu, command, encodeCommand } from "../core/apdu.js";
import { type Bytes, concat, fromHex, toHex } from "../core/bytes.js";
import { parseTlv } from "../core/tlv.js";
import {
  ISD_AID,
  deleteCommand,
  getStatusCommand,
  installForInstallCommand,
  lv,
  selectByAid,
  storeDataCommand,
} from "./gp.js";
import { type Scp03Keys, pseudoRandomCardChallenge } from "./scp03.js";
import {
  HostSession,
  buildScript,
  initializeUpdateCommand,
  installCommands,
  runSecureScript,
} from "./scp03-host.js";
import { SecureElement } from "./secure-element.js";
import { tap } from "./testing/provision.js";
import { seededRandom } from "./testing/random.js";
import { fileSamplePackage, samplePackage } from "./testing/sample-applets.js";

const AID = "A000000333010101";
const random = seededRandom(42);
const keysA: Scp03Keys = { enc: random(16), mac: random(16), dek: random(16), version: 0x30 };
const keysB: Scp03Keys = { enc: random(16), mac: random(16), dek: random(16), version: 0x30 };

function newSe(keys: Scp03Keys, seed: number): SecureElement {
  return SecureElement.manufacture({
    packages: [samplePackage, fileSamplePackage],
    keys,
    serial: fromHex(`00000000000000${seed.toString(16).padStart(2, "0")}`),
    random: seededRandom(seed),
  });
}

const hex = (b: Bytes) => toHex(b);
/** The device's half: SELECT ISD + INITIALIZE UPDATE; returns the answer the TSM builds the script on. */
function initializeUpdate(se: SecureElement, hostChallenge: Bytes): Bytes {
  expect(hex(se.host.transmit(encodeCommand(selectByAid(ISD_AID))))).toMatch(/9000$/);
  return se.host.transmit(encodeCommand(initializeUpdateCommand(hostChallenge)));
}
/** The TSM's half: the script for these commands. */
function script(
  keys: Scp03Keys,
  hostChallenge: Bytes,
  answer: Bytes,
  commands: CommandApdu[],
  level = 0x03,
): Bytes[] {
  const s = buildScript(keys, hostChallenge, answer, commands, level);
  if (!s.ok) throw new Error(s.error);
  return s.value;
}
const relay = (se: SecureElement, apdus: Bytes[]) => apdus.map((a) => hex(se.host.transmit(a)));

const INSTALL = installCommands({
  packageId: "test.applet",
  aid: fromHex(AID),
  params: { category: "payment", label: "PBOC DEBIT" },
  personalization: [
    { dgi: 0x0101, data: fromHex("5A08622588000000000F") },
    { dgi: 0x8000, data: fromHex("00112233445566778899AABBCCDDEEFF") },
  ],
});

describe("card manager over SCP03", () => {
  it("installs and personalises an applet that then answers a SELECT from the field", () => {
    const se = newSe(keysA, 1);
    const hc = fromHex("1111111111111111");
    const answer = initializeUpdate(se, hc);
    expect(answer).toHaveLength(34);
    expect(relay(se, script(keysA, hc, answer, INSTALL))).toEqual(["9000", "009000", "9000", "9000"]);
    expect(se.registry.list()).toMatchObject([
      { packageId: "test.applet", state: "deactivated", lifecycle: 0x0f },
    ]);
    const data = se.nvm.snapshot()[`app:${AID}`]!;
    expect(data["dgi:0101"]).toBe('"5A08622588000000000F"');
    expect(data["dgi:8000"]).toBe('"00112233445566778899AABBCCDDEEFF"');
    expect(data.installedAs).toBe(`"${AID}"`);
    expect(se.registry.activate(fromHex(AID)).ok).toBe(true);
    se.activate();
    expect(tap(se, `00A4040008${AID}00`)).toEqual([`6F108408${AID}A504544553549000`]);
  });

  it("announces its serial and a pseudo-random challenge from the sequence counter kept in NVM", () => {
    const se = newSe(keysA, 7);
    const first = initializeUpdate(se, fromHex("0000000000000000"));
    const second = initializeUpdate(se, fromHex("0000000000000000"));
    expect(hex(first.subarray(0, 13))).toBe("0000000000000007000030 0370".replace(/ /g, ""));
    expect(hex(first.subarray(29, 32))).toBe("000001");
    expect(hex(second.subarray(29, 32))).toBe("000002");
    expect(hex(second.subarray(13, 21))).toBe(
      hex(pseudoRandomCardChallenge(keysA.enc, fromHex("000002"), ISD_AID)),
    );
    expect(se.nvm.snapshot().cm).toEqual({ "scp03.sequence": "2" });
    expect(hex(se.host.transmit(fromHex("8050310008000000000000000000")))).toBe("6A88"); // unknown key version
  });

  it("refuses a command whose MAC has one byte flipped, and closes the session", () => {
    const se = newSe(keysA, 1);
    const hc = fromHex("2222222222222222");
    const [ea, install, ...rest] = script(keysA, hc, initializeUpdate(se, hc), INSTALL);
    const flipped = install!.slice();
    flipped[flipped.length - 2]! ^= 0x40; // last byte of the C-MAC (before Le)
    expect(relay(se, [ea!, flipped, install!, ...rest])).toEqual(["9000", "6982", "6982", "6982", "6982"]);
    expect(se.registry.list()).toEqual([]);
  });

  it("refuses a replayed command (MAC chaining) and a replayed session", () => {
    const se = newSe(keysA, 1);
    const hc = fromHex("3333333333333333");
    const apdus = script(keysA, hc, initializeUpdate(se, hc), INSTALL.slice(0, 1));
    expect(relay(se, apdus)).toEqual(["9000", "009000"]);
    expect(relay(se, [apdus[1]!])).toEqual(["6982"]);
    // the same script again after a new INITIALIZE UPDATE: the card challenge moved on
    initializeUpdate(se, hc);
    expect(relay(se, apdus)).toEqual(["6982", "6982"]);
    expect(se.registry.list()).toHaveLength(1);
  });

  it("refuses a script built for another SE", () => {
    const a = newSe(keysA, 1);
    const b = newSe(keysB, 2);
    const hc = fromHex("4444444444444444");
    const forA = script(keysA, hc, initializeUpdate(a, hc), INSTALL);
    const answerB = initializeUpdate(b, hc);
    expect(relay(b, forA)).toEqual(["6982", "6982", "6982", "6982"]);
    // and the TSM notices at once if it uses A's keys on B's answer
    expect(HostSession.open(keysA, hc, answerB).ok).toBe(false);
    expect(b.registry.list()).toEqual([]);
  });

  it("runSecureScript names the step that failed", () => {
    const se = newSe(keysA, 1);
    const hostChallenge = fromHex("CCCCCCCCCCCCCCCC");
    const wrongKeys = runSecureScript(se.host.transmit, keysB, INSTALL, { hostChallenge });
    expect(wrongKeys.ok === false && wrongKeys.error).toMatchObject({
      step: "INITIALIZE UPDATE",
      reason: expect.stringMatching(/cryptogram/),
    });
    const unknown = installCommands({ packageId: "no.such", aid: fromHex(AID) });
    const refused = runSecureScript(se.host.transmit, keysA, unknown, { hostChallenge });
    expect(refused.ok === false && refused.error).toMatchObject({ step: "E6 command 1", sw: 0x6a88 });
    const done = runSecureScript(se.host.transmit, keysA, INSTALL, { hostChallenge, securityLevel: 0x13 });
    expect(done.ok && done.value.map((r) => r.sw)).toEqual([0x9000, 0x9000, 0x9000]);
  });

  it("refuses content management outside a secure channel or without C-DECRYPTION", () => {
    const se = newSe(keysA, 1);
    expect(relay(se, [encodeCommand(selectByAid(ISD_AID)), encodeCommand(INSTALL[0]!)])).toEqual([
      "6F108408A000000151000000A5049F6501FF9000",
      "6982",
    ]);
    expect(hex(se.host.transmit(fromHex("8482030010" + "00".repeat(16))))).toBe("6985"); // no INITIALIZE UPDATE
    const hc = fromHex("5555555555555555");
    const macOnly = script(keysA, hc, initializeUpdate(se, hc), [INSTALL[0]!, getStatusCommand(0x40)], 0x01);
    const [ea, inst, status] = relay(se, macOnly);
    expect([ea, inst]).toEqual(["9000", "6982"]);
    expect(status).toBe("E3144F09A00000015143525300" + "9F700107" + "C503000000" + "9000");
  });

  it("reports the registry with GET STATUS in both formats, paging with 6310", () => {
    const se = newSe(keysA, 1);
    const installs = Array.from({ length: 9 }, (_, i) =>
      installForInstallCommand({
        packageId: "test.files",
        aid: fromHex(`A00000000386980701${i.toString(16).padStart(2, "0")}`),
        params: null,
        privileges: new Uint8Array(0),
      }),
    );
    const hc = fromHex("6666666666666666");
    const session = HostSession.open(keysA, hc, initializeUpdate(se, hc), 0x33);
    if (!session.ok) throw new Error(session.error);
    expect(hex(se.host.transmit(session.value.externalAuthenticate()))).toBe("9000");
    const send = (c: CommandApdu) => {
      const r = session.value.unwrap(se.host.transmit(session.value.wrap(c)));
      if (!r.ok) throw new Error(r.error);
      return r.value;
    };
    for (const c of installs) expect(send(c).sw).toBe(0x9000);
    const [isd, loadFiles, apps, more] = [
      send(getStatusCommand(0x80)),
      send(getStatusCommand(0x20)),
      send(getStatusCommand(0x40)),
      send(getStatusCommand(0x40, new Uint8Array(0), true)),
    ];
    expect([isd!.sw, loadFiles!.sw, apps!.sw, more!.sw]).toEqual([0x9000, 0x9000, 0x6310, 0x9000]);
    expect(hex(isd!.data)).toBe(
      "E3134F08A0000001514000009F70010FC5039EFE80".replace("A00000015140", "A00000015100"),
    );
    const tags = (b: Bytes) => {
      const t = parseTlv(b);
      if (!t.ok) throw new Error(t.error);
      return t.value;
    };
    expect(tags(loadFiles!.data).map((e) => new TextDecoder().decode(e.children![0]!.value))).toEqual([
      "test.applet",
      "test.files",
    ]);
    const listed = [...tags(apps!.data), ...tags(more!.data)].map((e) => hex(e.children![0]!.value));
    expect(listed).toHaveLength(10); // the CRS and 9 instances
    expect(listed[0]).toBe("A00000015143525300");
  });

  it("answers GET STATUS in the legacy format and 6A88 when nothing matches", () => {
    const se = newSe(keysA, 1);
    const hc = fromHex("7777777777777777");
    const legacy = command(0x80, 0xf2, 0x80, 0x00, fromHex("4F00"), 256);
    const none = getStatusCommand(0x40, fromHex("B0B0B0B0B0"));
    const s = HostSession.open(keysA, hc, initializeUpdate(se, hc));
    if (!s.ok) throw new Error(s.error);
    expect(relay(se, [s.value.externalAuthenticate(), s.value.wrap(legacy), s.value.wrap(none)])).toEqual([
      "9000",
      "08A0000001510000000F9E9000",
      "6A88",
    ]);
  });

  it("refuses bad INSTALLs: unknown package, taken or reserved AID, broken parameters", () => {
    const se = newSe(keysA, 1);
    const install = (packageId: string, aid: string) =>
      installForInstallCommand({ packageId, aid: fromHex(aid), params: null, privileges: new Uint8Array(0) });
    const badJson = command(
      0x80,
      0xe6,
      0x0c,
      0x00,
      concat(
        lv(fromHex("746573742E6170706C6574")),
        lv(new Uint8Array(0)),
        lv(fromHex("A0000000010203")),
        lv(new Uint8Array(0)),
        lv(fromHex("C9027B7B")),
        lv(new Uint8Array(0)),
      ),
    );
    const hc = fromHex("8888888888888888");
    const answers = relay(
      se,
      script(keysA, hc, initializeUpdate(se, hc), [
        install("no.such.package", "A0000000010203"),
        install("test.applet", "A0000000010203"),
        install("test.applet", "A0000000010203"),
        install("test.applet", "A00000015143525300"),
        badJson,
        command(0x80, 0xe6, 0x04, 0x00, fromHex("00")),
      ]),
    );
    expect(answers).toEqual(["9000", "6A88", "009000", "6985", "6985", "6A80", "6A86"]);
  });

  it("checks STORE DATA block numbers and rolls back a block an applet refuses", () => {
    const se = newSe(keysA, 1);
    const hc = fromHex("9999999999999999");
    const block = (n: number, last: boolean, dgis: string) => storeDataCommand(n, last, fromHex(dgis));
    const answers = relay(
      se,
      script(keysA, hc, initializeUpdate(se, hc), [
        block(0, true, "010101AA"), // no INSTALL [for personalization] yet
        ...INSTALL.slice(0, 2),
        block(1, false, "010101AA"), // expected block 00
        block(0, false, "010101AA0202 01BB FFFF01CC".replace(/ /g, "")), // DGI FFFF refused: the whole block rolls back
        block(0, true, "010301DD"),
      ]),
    );
    expect(answers).toEqual(["9000", "6985", "009000", "9000", "6A86", "6A80", "9000"]);
    const data = se.nvm.snapshot()[`app:${AID}`]!;
    expect(Object.keys(data).sort()).toEqual(["dgi:0103", "installedAs"]);
  });

  it("deletes an instance with its data and roles; the ISD and CRS stay", () => {
    const se = newSe(keysA, 1);
    const hc = fromHex("AAAAAAAAAAAAAAAA");
    relay(se, script(keysA, hc, initializeUpdate(se, hc), INSTALL));
    se.registry.setDefaultPayment(fromHex(AID));
    se.activate();
    expect(tap(se, `00A4040008${AID}00`)[0]).toMatch(/9000$/);
    const hc2 = fromHex("BBBBBBBBBBBBBBBB");
    const answers = relay(
      se,
      script(keysA, hc2, initializeUpdate(se, hc2), [
        deleteCommand(ISD_AID),
        deleteCommand(fromHex("A00000015143525300")),
        deleteCommand(fromHex(AID)),
        deleteCommand(fromHex(AID)),
      ]),
    );
    expect(answers).toEqual(["9000", "6985", "6985", "009000", "6A88"]);
    expect(se.registry.list()).toEqual([]);
    expect(se.registry.defaultPayment()).toBeNull();
    expect(Object.keys(se.nvm.snapshot())).not.toContain(`app:${AID}`);
    expect(tap(se, "8012000004", `00A4040008${AID}00`)).toEqual(["6D00", "6A82"]);
  });
});
