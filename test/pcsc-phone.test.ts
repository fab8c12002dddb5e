/**
 * The phone in a real PC/SC stack (pcscd + vsmartcard vpcd, started by scripts/setup-pcsc.sh): the phone's SE
 * (a T-Union card, a UnionPay token, a door card) is presented through our bridge the way `tapwallet phone
 * present --vpcd` presents it (`phoneFieldIcc`), and third-party PC/SC clients and our own terminals use it:
 * scriptor and pyscard read the T-Union balance, opensc-tool lists it, our POS pays online and offline (fDDA),
 * our door reader opens through the storage-card ATR. Then the phone is pulled out of the reader (the bridge
 * stopped) in the middle of a load and of purchases: the card stays consistent (the tearing rules) and the
 * terminal says the card is gone. Runs in CI always; skipped locally only while the stack is not installed.
 */
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { type Bytes, fromHex, toHex } from "../src/core/bytes.js";
import { ok } from "../src/core/result.js";
import { AID } from "../src/emv/profile.js";
import { PcscStorageCardLink } from "../src/nfc/pcsc-storage.js";
import { PcscClassicReader, phoneFieldIcc } from "../src/mifare/storage-card.js";
import { SecureElement } from "../src/se/secure-element.js";
import { epursePackage } from "../src/transit/phone.js";
import { qpbocPackage } from "../src/emv/card/package.js";
import { doorPackage } from "../src/mifare/door-applet.js";
import { DoorReader } from "../src/mifare/door-reader.js";
import { type LoadDone, loadCard, settleLoad } from "../src/transit/terminal/load.js";
import {
  DOOR_CREDENTIAL,
  DOOR_KEY,
  DOOR_UID,
  FUNDING_PAN,
  type UnplugMoment,
  UnpluggableCard,
  balanceOf,
  phoneWorld,
} from "./pcsc-phone.js";
import { RUN_STACK_TESTS, assertStack, onVpcd, replug, runTool, spacedHex } from "./pcsc-stack.js";

const T_UNION_AID = "A000000632010105";
const SELECT_PPSE = "00A404000E325041592E5359532E444446303100";
const SELECT_T_UNION = `00A4040008${T_UNION_AID}00`;
const GET_BALANCE = "805C000204";
const ins = (code: number) => (c: Bytes) => c[0] === 0x80 && c[1] === code;

describe.skipIf(!RUN_STACK_TESTS)("the phone in pcscd's virtual reader", () => {
  beforeAll(assertStack);

  it("scriptor selects the PPSE and the T-Union application on the phone's SE and reads the balance", async () => {
    const w = await phoneWorld();
    await w.topUp(50_00);
    await onVpcd(phoneFieldIcc(w.se), async ({ reader }) => {
      const script = [SELECT_PPSE, SELECT_T_UNION, GET_BALANCE].map(spacedHex).join("\n") + "\n";
      const r = await runTool("/usr/bin/scriptor", ["-r", reader], script);
      expect(r.code, r.stderr).toBe(0);
      const out = r.stdout.replace(/\s+/g, "");
      // The PPSE lists the bank card and the T-Union card; the balance is 50.00 yuan = 5000 fen = 0x1388.
      expect(out).toContain(`4F08${toHex(AID.debit)}`);
      expect(out).toContain(`4F08${T_UNION_AID}`);
      expect(out).toContain(`>${GET_BALANCE}<000013889000:Normalprocessing.`);
    });
  });

  it("a pyscard script selects the PPSE and the T-Union application and reads the balance", async () => {
    const w = await phoneWorld();
    await w.topUp(123_45);
    await onVpcd(phoneFieldIcc(w.se), async ({ reader }) => {
      const script = fileURLToPath(new URL("./pcsc_pyscard.py", import.meta.url));
      const args = [script, reader, "--aid-prefix", T_UNION_AID, "--apdu", GET_BALANCE];
      const r = await runTool("/usr/bin/python3", args);
      expect(r.code, r.stderr).toBe(0);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(j).toMatchObject({
        reader,
        atr: "3B80800101", // the SE's ATS has no historical bytes
        ppse_sw: "9000",
        aid: T_UNION_AID,
        select_sw: "9000",
        apdus: [
          { command: GET_BALANCE, data: (123_45).toString(16).toUpperCase().padStart(8, "0"), sw: "9000" },
        ],
      });
      expect(j.aids).toEqual(expect.arrayContaining([toHex(AID.debit), T_UNION_AID]));
    });
  });

  it("opensc-tool lists the phone and reads the T-Union balance from it", async () => {
    const w = await phoneWorld();
    await w.topUp(8_00);
    await onVpcd(phoneFieldIcc(w.se), async ({ reader }) => {
      const list = await runTool("/usr/bin/opensc-tool", ["-l"]);
      const line = list.stdout.split("\n").find((l) => l.includes(reader));
      expect(line, list.stdout).toMatch(/^\d+\s+Yes\s/);
      const index = line!.trim().split(/\s+/)[0]!;
      const r = await runTool("/usr/bin/opensc-tool", [
        ...["-r", index, "-c", "default"],
        ...["-s", SELECT_T_UNION, "-s", GET_BALANCE],
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.replace(/\s+/g, "")).toContain("Received(SW1=0x90,SW2=0x00):00000320");
    });
  });

  it("our POS pays with the phone's bank card: online (issuer approves, card checks the ARPC) and offline with fDDA", async () => {
    const w = await phoneWorld();
    await onVpcd(phoneFieldIcc(w.se), async ({ link }) => {
      const online = await w.pos().pay(link, 12_34);
      expect(online).toMatchObject({
        status: "approved",
        decidedBy: "issuer",
        issuerAuthentication: "verified",
      });
      expect(online.outcome.card?.cryptogramType).toBe("ARQC");
      expect(online.authorisation?.response.responseCode).toBe("00");
      w.clock.advance(60_000);
      const offline = await w.pos({ floorLimit: 300_00 }).pay(link, 100_00);
      expect(offline).toMatchObject({ status: "approved", decidedBy: "card" });
      expect(offline.outcome.card).toMatchObject({
        cryptogramType: "TC",
        fdda: "passed",
        offlineBalance: 400_00,
      });
      expect(toHex(offline.outcome.card!.atc)).toBe("0002");
    });
    // Only the online payment moved money so far (the offline one waits for clearing).
    expect((await w.bank.host.account(FUNDING_PAN))?.available).toBe(10_000_00 - 12_34);
  });

  it("our door reader opens with the phone's door card through the storage-card ATR; a reader's write lands in the SE file", async () => {
    const w = await phoneWorld();
    w.useDoorCard(true);
    await onVpcd(phoneFieldIcc(w.se), async ({ link, pcsc, reader }) => {
      expect(toHex(pcsc.atr(reader))).toBe("3B8F8001804F0CA000000306030001000000006A");
      const door = w.door();
      const tap = () => door.tapVia(link, new PcscClassicReader(link));
      expect(await tap()).toMatchObject({ granted: true, outcome: "granted", uid: toHex(DOOR_UID) });
      const wrong = new DoorReader(
        {
          mode: "sector",
          block: 4,
          keyType: "A",
          key: fromHex("A0A1A2A3A4A5"),
          credentials: [DOOR_CREDENTIAL],
        },
        w.clock,
      );
      expect(await wrong.tapVia(link, new PcscClassicReader(link))).toMatchObject({ outcome: "auth_failed" });
      // An encoder-style write through the pseudo-APDUs, then the saved SE image holds it.
      await link.fieldOn();
      const mfc = new PcscStorageCardLink(link);
      expect((await mfc.authenticateWithKey(5, "A", DOOR_KEY)).ok).toBe(true);
      const block = fromHex("0102030405060708090A0B0C0D0E0F10");
      expect((await mfc.updateBlock(5, block)).ok).toBe(true);
      await link.fieldOff();
      const saved = SecureElement.fromImage(w.storage.image!, {
        packages: [epursePackage, qpbocPackage, doorPackage],
      });
      const again = phoneFieldIcc(saved);
      again.insert();
      expect(toHex(again.transmit(fromHex(`FF82000006${toHex(DOOR_KEY)}`)))).toBe("9000");
      expect(toHex(again.transmit(fromHex("FF860000050100056000")))).toBe("9000");
      expect(toHex(again.transmit(fromHex("FFB0000510")))).toBe(toHex(block) + "9000");
      expect(await tap()).toMatchObject({ granted: true });
    });
    // Put away, the phone is an ISO 14443-4 card again.
    w.useDoorCard(false);
    await onVpcd(phoneFieldIcc(w.se), async ({ pcsc, reader }) => {
      expect(toHex(pcsc.atr(reader))).toBe("3B80800101");
    });
  });

  describe("pulled out of the reader mid-transaction", () => {
    // CREDIT FOR LOAD and DEBIT FOR PURCHASE each make 10 physical NVM writes on this SE (journal entries,
    // commit mark, cells, journal cleared): a cut after the first leaves the card before, a cut before the
    // last (the cleanup) after, once the journal is recovered at the next power-up.
    const moments: [UnplugMoment, number, "before" | "after"][] = [
      ["before", 0, "before"],
      ["torn", 1, "before"],
      ["torn", 9, "after"],
      ["after", 0, "after"],
    ];

    it.each(moments)(
      "during a top-up machine's CREDIT FOR LOAD (%s, %i writes): torn, then settled by GET TRANSACTION PROVE: %s",
      async (moment, writes, expected) => {
        const w = await phoneWorld();
        await w.topUp(10_00);
        const card = new UnpluggableCard(w.se);
        await onVpcd(card, async (s) => {
          await s.link.fieldOn();
          const target = { system: "t-union" as const, aid: w.transitAid };
          card.arm(ins(0x52), moment, () => void s.bridge.stop(), writes);
          const r = await loadCard(s.link, w.loadHost, 20_00, target);
          // The terminal's word for a card gone between the load command and its answer.
          expect(r.ok || r.error.reason).toBe("torn");
          expect(s.link.activation).toBeNull();
          if (r.ok || r.error.reason !== "torn") return;
          await replug(s);
          await s.link.fieldOn();
          const settled = await settleLoad(s.link, w.loadHost, r.error.pending, target);
          const balance = await balanceOf(s.link);
          // Loaded exactly when the card proves it (MAC2 ‖ TAC, checked by the host), and the balance agrees.
          if (expected === "before") {
            expect(settled).toEqual(ok("not_loaded"));
            expect(balance).toBe(10_00);
          } else {
            expect(settled.ok && (settled.value as LoadDone).balanceAfter).toBe(30_00);
            expect(balance).toBe(30_00);
          }
        });
      },
    );

    it.each(moments)(
      "during a bus validator's DEBIT FOR PURCHASE (%s, %i writes): torn; the next tap settles it (%s), charged once",
      async (moment, writes, expected) => {
        const w = await phoneWorld();
        await w.topUp(10_00);
        const bus = w.bus(2_00);
        const card = new UnpluggableCard(w.se);
        await onVpcd(card, async (s) => {
          await s.link.fieldOn();
          card.arm(ins(0x54), moment, () => void s.bridge.stop(), writes);
          const first = await bus.tap(s.link);
          expect(first).toMatchObject({ ok: false, reason: "torn", message: { zh: "交易中断，请重新刷卡" } });
          expect(s.link.activation).toBeNull();
          await replug(s);
          await s.link.fieldOn();
          const second = await bus.tap(s.link);
          // The card proves the torn debit (recovered) or never made it (charged afresh): 2.00 either way.
          expect(second).toMatchObject({ ok: true, amount: 2_00, balanceAfter: 8_00 });
          // "after": GET TRANSACTION PROVE gave the torn debit's TAC, nothing more is charged.
          expect(second.ok && second.recovered === true).toBe(expected === "after");
          await s.link.fieldOff();
          await s.link.fieldOn();
          expect(await balanceOf(s.link)).toBe(8_00);
        });
      },
    );

    it("during a POS payment's GET PROCESSING OPTIONS: try again (card gone), and the next tap pays with a later ATC", async () => {
      const w = await phoneWorld();
      const pos = w.pos();
      const card = new UnpluggableCard(w.se);
      await onVpcd(card, async (s) => {
        card.arm(
          (c) => c[0] === 0x80 && c[1] === 0xa8,
          "after",
          () => void s.bridge.stop(),
        );
        const gone = await pos.pay(s.link, 5_00);
        expect(gone).toMatchObject({ status: "try-again", reason: { code: "card-gone" } });
        await replug(s);
        w.clock.advance(10_000);
        const paid = await pos.pay(s.link, 5_00);
        expect(paid.status).toBe("approved");
        // The interrupted GPO generated ATC 1 on the card; the retry uses 2 and the issuer accepts it.
        expect(toHex(paid.outcome.card!.atc)).toBe("0002");
      });
    });
  });
});
