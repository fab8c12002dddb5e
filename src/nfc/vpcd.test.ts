import { afterEach, describe, expect, it } from "vitest";
import { fromHex, toHex } from "../core/bytes.js";
import {
  FakeVpcd,
  INS_UNPLUG,
  MemoryStorageCard,
  PpseTestCard,
  SELECT_PPSE,
} from "../../test/pcsc-doubles.js";
import { VpcdBridge, type VpcdTraceEvent, startVpcdBridge } from "./vpcd.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(card: ConstructorParameters<typeof VpcdBridge>[0] = new PpseTestCard()) {
  const vpcd = new FakeVpcd();
  const port = await vpcd.listen();
  const trace: VpcdTraceEvent[] = [];
  const bridge = new VpcdBridge(card, { port, trace: (e) => trace.push(e), retryDelayMs: 10 });
  cleanups.push(
    () => vpcd.close(),
    () => bridge.stop(),
  );
  await bridge.start();
  await vpcd.connection();
  return { vpcd, bridge, port, trace };
}

describe("VpcdBridge against a stand-in vpcd", () => {
  it("answers GET ATR, power control and APDUs", async () => {
    const card = new PpseTestCard();
    const { vpcd, trace } = await setup(card);
    expect(await vpcd.request("04")).toBe("3B8180018080");
    vpcd.send(fromHex("00")); // power off: no reply
    vpcd.send(fromHex("01")); // power on: no reply
    expect(await vpcd.request(toHex(SELECT_PPSE))).toMatch(/^6F.*9000$/);
    expect(await vpcd.request("8010000000", true)).toBe("00019000");
    expect(await vpcd.request("FFCA000000")).toBe("04A1B2C3D4E5F69000");
    expect([card.activations, card.deactivations]).toEqual([2, 1]);
    expect(trace.map((e) => `${e.dir}:${e.kind}`).slice(0, 5)).toEqual([
      "in:get-atr",
      "out:atr",
      "in:power-off",
      "in:power-on",
      "in:apdu",
    ]);
  });

  it("presents a storage card with its ATR and pseudo-APDUs", async () => {
    const { vpcd } = await setup(new MemoryStorageCard("4k"));
    expect(await vpcd.request("04")).toBe("3B8F8001804F0CA0000003060300020000000069");
    expect(await vpcd.request("FF82000006FFFFFFFFFFFF")).toBe("9000");
    expect(await vpcd.request("FF860000050100806000")).toBe("9000"); // block 128: first 16-block sector
    expect(await vpcd.request("FFB00080F0")).toBe("00".repeat(240) + "9000");
  });

  it("stops mid-APDU: the command reaches the card, no response goes out, the card leaves the field", async () => {
    const card = new PpseTestCard();
    const { vpcd, bridge } = await setup(card);
    let stopping: Promise<void> | null = null;
    card.onUnplug = () => {
      stopping = bridge.stop();
    };
    expect(await vpcd.request(`80${INS_UNPLUG.toString(16)}000000`)).toBeNull();
    await stopping;
    expect(bridge.connected).toBe(false);
    expect(card.deactivations).toBe(1);
  });

  it("stops cleanly while a message is half received, and at any time before connecting", async () => {
    const { vpcd, bridge } = await setup();
    vpcd.socket!.write(Uint8Array.of(0x00, 0x05, 0x80)); // a 5-byte APDU cut after one byte
    await new Promise((r) => setTimeout(r, 20));
    await bridge.stop();
    expect(bridge.connected).toBe(false);
    const idle = new VpcdBridge(new PpseTestCard(), { port: 1 });
    const started = idle.start();
    await idle.stop();
    await expect(started).rejects.toMatchObject({ code: "vpcd_stopped" });
  });

  it("reconnects when vpcd drops the connection, and the card is inserted again", async () => {
    const card = new PpseTestCard();
    const { vpcd, bridge } = await setup(card);
    const events: string[] = [];
    bridge.on("connected", () => events.push("connected"));
    bridge.on("disconnected", () => events.push("disconnected"));
    const back = new Promise<void>((resolve) => bridge.once("connected", () => resolve()));
    vpcd.socket!.destroy();
    await back;
    expect(events).toEqual(["disconnected", "connected"]);
    expect([card.activations, card.deactivations]).toEqual([2, 1]);
    await vpcd.connection();
    expect(await vpcd.request("8010000000")).toBe("00019000");
  });

  it("keeps trying until vpcd listens (pcscd started after the bridge)", async () => {
    const vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    await new Promise<void>((resolve) => vpcd.server.close(() => resolve()));
    const bridge = new VpcdBridge(new PpseTestCard(), { port, retryDelayMs: 10, maxRetryDelayMs: 20 });
    cleanups.push(() => bridge.stop());
    const started = bridge.start();
    await new Promise((r) => setTimeout(r, 60));
    expect(bridge.connected).toBe(false);
    const again = new FakeVpcd();
    cleanups.push(() => again.close());
    await again.listen(port);
    await started;
    expect(bridge.connected).toBe(true);
  });

  it("without reconnect, start() rejects with a message that says how to set vpcd up", async () => {
    const vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    await new Promise<void>((resolve) => vpcd.server.close(() => resolve()));
    const bridge = new VpcdBridge(new PpseTestCard(), { port, reconnect: false });
    await expect(bridge.start()).rejects.toMatchObject({
      code: "vpcd_unreachable",
      en: expect.stringContaining("setup-pcsc.sh"),
    });
  });

  it("failIfAbsent: rejects at once when vpcd is not there, but reconnects once it has been reached", async () => {
    const gone = new FakeVpcd();
    const deadPort = await gone.listen();
    await new Promise<void>((resolve) => gone.server.close(() => resolve()));
    const absent = new VpcdBridge(new PpseTestCard(), {
      port: deadPort,
      failIfAbsent: true,
      retryDelayMs: 5,
    });
    await expect(absent.start()).rejects.toMatchObject({ code: "vpcd_unreachable" });
    await new Promise((r) => setTimeout(r, 30));
    expect(absent.connected).toBe(false); // stopped, not retrying

    const vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    cleanups.push(() => vpcd.close());
    const bridge = new VpcdBridge(new PpseTestCard(), { port, failIfAbsent: true, retryDelayMs: 5 });
    cleanups.push(() => bridge.stop());
    await bridge.start();
    const back = new Promise<void>((resolve) => bridge.once("connected", () => resolve()));
    vpcd.socket!.destroy();
    await back;
    expect(bridge.connected).toBe(true);
  });
});

describe("startVpcdBridge (--vpcd [HOST:PORT])", () => {
  it("presents the card at the given address", async () => {
    const vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    cleanups.push(() => vpcd.close());
    const bridge = await startVpcdBridge(new PpseTestCard(), `127.0.0.1:${port}`);
    cleanups.push(() => bridge.stop());
    await vpcd.connection();
    expect(await vpcd.request("04")).toBe("3B8180018080");
  });

  it("refuses a bad address with a readable error", async () => {
    await expect(startVpcdBridge(new PpseTestCard(), "host:99999")).rejects.toMatchObject({
      code: "vpcd_bad_address",
    });
  });
});
