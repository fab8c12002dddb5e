/**
 * The TSM end to end, phone and cloud in one process over HTTP, on SQLite and PostgreSQL: a supported phone
 * registers, the TSM installs a door card onto its SE through SCP03 during the phone's sync, and a door
 * reader opens with it.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../src/core/bytes.js";
import { addDoorCard, openDoor } from "../src/device/index.js";
import { backends } from "./cloud-harness.js";
import { type LiveCloud, doorDump, phoneOn, removeStateDirs, startCloud } from "./device-harness.js";

afterAll(removeStateDirs);

for (const backend of backends) {
  describe.skipIf(backend.skip)(`TSM on ${backend.name}`, () => {
    let cloud: LiveCloud;
    beforeEach(async () => {
      cloud = await startCloud(backend);
    });
    afterEach(async () => {
      await cloud.close();
    });

    it("installs a door card through SCP03 at the phone's sync; the door opens", async () => {
      const { phone, wallet } = await phoneOn(cloud, "13800138000");
      const dump = doorDump("5A17E3C0");
      const added = await addDoorCard(wallet, { bytes: dump.bytes, fileName: dump.fileName });
      expect(added.sync.scripts.map((s) => [s.kind, s.state])).toEqual([
        ["install", "done"],
        ["registry", "done"],
      ]);
      expect(phone.cards()).toMatchObject([
        { packageId: "mifare.door", state: "activated", category: "access" },
      ]);
      const door = await openDoor(phone, { mode: "uid", whitelist: [fromHex("5A17E3C0")] }, cloud.clock);
      expect(door).toMatchObject({ granted: true, uid: "5A17E3C0" });
      expect(toHex(phone.se.serial)).toBe(phone.seId);
    });
  });
}
