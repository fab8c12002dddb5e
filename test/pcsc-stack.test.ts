/**
 * Interop through the real stack: our vpcd bridge presents a card in pcscd's "Virtual PCD 00 00", and our
 * PC/SC transport, scriptor (pcsc-tools), pyscard and opensc-tool talk to it. Runs in CI always (.ci/run
 * starts pcscd + vpcd with scripts/setup-pcsc.sh); skipped locally only while the stack is not installed.
 */
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { CardGoneError } from "../src/nfc/link.js";
import { PcscStorageCardLink } from "../src/nfc/pcsc-storage.js";
import { VPCD_READER_NAME } from "../src/nfc/vpcd-protocol.js";
import { seededRandom } from "../src/se/testing/random.js";
import { readTransitCard } from "../src/transit/reader/reader.js";
import { TransitSandbox } from "../src/transit/sandbox.js";
import {
  INS_UNPLUG,
  MemoryStorageCard,
  PPSE_FCI,
  PpseTestCard,
  SELECT_PPSE,
  TEST_AID,
} from "./pcsc-doubles.js";
import { RUN_STACK_TESTS, assertStack, onVpcd, runTool, spacedHex } from "./pcsc-stack.js";

const SELECT_PPSE_HEX = toHex(SELECT_PPSE);

describe.skipIf(!RUN_STACK_TESTS)("PC/SC interop through pcscd and vpcd", () => {
  beforeAll(assertStack);

  it("our PC/SC link lists Virtual PCD 00 00, activates the card and exchanges APDUs", async () => {
    const card = new PpseTestCard();
    await onVpcd(card, async ({ pcsc, link }) => {
      expect(pcsc.readers()).toContain(VPCD_READER_NAME);
      const activation = await link.fieldOn();
      expect(toHex(link.atr)).toBe("3B8180018080");
      expect(toHex(activation.uid)).toBe("04A1B2C3D4E5F6");
      expect(toHex(activation.ats!)).toBe("067577810280");
      expect(activation.sak).toBe(0x20);
      expect(toHex(await link.transceive(SELECT_PPSE))).toBe(toHex(PPSE_FCI) + "9000");
      for (let i = 1; i <= 5; i++)
        expect(toHex(await link.transceive(fromHex("8010000002")))).toBe(`000${i}9000`);
      await link.fieldOff();
      expect(card.deactivations).toBeGreaterThan(0);
    });
  });

  it("scriptor (pcsc-tools) selects the PPSE", async () => {
    await onVpcd(new PpseTestCard(), async ({ reader }) => {
      const r = await runTool("/usr/bin/scriptor", ["-r", reader], `${spacedHex(SELECT_PPSE_HEX)}\n`);
      expect(r.code, r.stderr).toBe(0);
      // scriptor prints 16 bytes a line: compare without white space.
      expect(r.stdout.replace(/\s+/g, "")).toContain(`<${toHex(PPSE_FCI)}9000:Normalprocessing.`);
    });
  });

  it("a pyscard script selects the PPSE and the application it lists", async () => {
    await onVpcd(new PpseTestCard(), async ({ reader }) => {
      const script = fileURLToPath(new URL("./pcsc_pyscard.py", import.meta.url));
      const r = await runTool("/usr/bin/python3", [script, reader]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({
        reader,
        atr: "3B8180018080",
        ppse_sw: "9000",
        aids: [toHex(TEST_AID)],
        aid: toHex(TEST_AID),
        select_sw: "9000",
        apdus: [],
      });
    });
  });

  it("opensc-tool lists the card and sends an APDU", async () => {
    await onVpcd(new PpseTestCard(), async ({ reader }) => {
      const list = await runTool("/usr/bin/opensc-tool", ["-l"]);
      const line = list.stdout.split("\n").find((l) => l.includes(reader));
      expect(line, list.stdout).toMatch(/^\d+\s+Yes\s/);
      const index = line!.trim().split(/\s+/)[0]!;
      const r = await runTool("/usr/bin/opensc-tool", ["-r", index, "-c", "default", "-s", SELECT_PPSE_HEX]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("Received (SW1=0x90, SW2=0x00)");
    });
  });

  it("presents a MIFARE Classic 1K with the storage-card ATR and answers the pseudo-APDUs", async () => {
    const card = new MemoryStorageCard("1k");
    card.setKeys(2, fromHex("A0A1A2A3A4A5"), fromHex("B0B1B2B3B4B5"));
    await onVpcd(card, async ({ link, reader }) => {
      const activation = await link.fieldOn();
      expect(toHex(link.atr)).toBe("3B8F8001804F0CA000000306030001000000006A");
      expect([toHex(activation.uid), activation.sak, activation.ats]).toEqual(["A1B2C3D4", 0x08, undefined]);
      const mfc = new PcscStorageCardLink(link);
      expect((await mfc.authenticateWithKey(4, "A", fromHex("FFFFFFFFFFFF"))).ok).toBe(true);
      const data = fromHex("0102030405060708090A0B0C0D0E0F10");
      expect((await mfc.updateBlock(4, data)).ok).toBe(true);
      expect(await mfc.readBlock(4)).toEqual({ ok: true, value: data });
      expect(await mfc.authenticateWithKey(8, "A", fromHex("FFFFFFFFFFFF"))).toMatchObject({
        ok: false,
        error: { sw: 0x6300 },
      });
      await mfc.reactivate(); // SCardDisconnect(unpower) + SCardConnect: vpcd powers the card off and on
      expect((await mfc.authenticateWithKey(8, "B", fromHex("B0B1B2B3B4B5"))).ok).toBe(true);
      expect(card.dump(4)).toBe(toHex(data));
      await link.fieldOff();
      // A third-party client sees the same card.
      const r = await runTool("/usr/bin/scriptor", ["-r", reader], "FF CA 00 00 00\n");
      expect(r.stdout).toContain("< A1 B2 C3 D4 90 00");
    });
  });

  it("stopping the bridge mid-transaction rejects with CardGoneError; the card comes back on restart", async () => {
    const card = new PpseTestCard();
    await onVpcd(card, async ({ bridge, pcsc, reader, link }) => {
      await link.fieldOn();
      card.onUnplug = () => void bridge.stop();
      const t0 = performance.now();
      await expect(link.transceive(fromHex(`80${INS_UNPLUG.toString(16)}000000`))).rejects.toBeInstanceOf(
        CardGoneError,
      );
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(link.activation).toBeNull();
      await pcsc.waitForCardRemoved(reader, 3000);
      card.onUnplug = () => {};
      await bridge.start();
      await pcsc.waitForCard(reader, 5000);
      await link.fieldOn();
      expect(toHex(await link.transceive(fromHex("8010000002")))).toBe("00019000");
    });
  });

  it("our metro gates charge the phone's T-Union card through the stack, and the reader reads it back", async () => {
    const clock = new ManualClock("2026-03-02T00:30:00Z");
    const sb = new TransitSandbox({ clock, random: seededRandom(7) });
    const { aid } = sb.addCard("tu-jingjinji");
    expect((await sb.topUp(aid, 5000)).ok).toBe(true);
    const entry = sb.metroGate({ station: "0101", direction: "entry" });
    const exit = sb.metroGate({ station: "0112", direction: "exit" });
    await onVpcd(sb.se, async ({ link }) => {
      await link.fieldOn();
      expect((await entry.tap(link)).ok).toBe(true);
      await link.fieldOff();
      clock.advance(25 * 60_000);
      await link.fieldOn();
      const out = await exit.tap(link);
      expect(out.ok && [out.amount, out.balanceAfter]).toEqual([500, 4500]);
      await link.fieldOff();
      await link.fieldOn();
      const read = await readTransitCard(link);
      expect(read.ok && read.value.balance).toBe(4500);
    });
  });
});
