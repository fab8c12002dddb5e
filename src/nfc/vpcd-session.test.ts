/** `--vpcd [HOST:PORT]`: a card presented on a stand-in vpcd until the signal aborts. */
import { afterEach, describe, expect, it } from "vitest";
import { FakeVpcd, PpseTestCard, SELECT_PPSE } from "../../test/pcsc-doubles.js";
import { toHex } from "../core/bytes.js";
import { ContactlessIcc } from "./vpcd-icc.js";
import { presentOnVpcd } from "./vpcd-session.js";
import type { VpcdBridge } from "./vpcd.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe("presentOnVpcd", () => {
  it("presents the card, says what the reader sees, rides out vpcd going away, and stops on abort", async () => {
    const vpcd = new FakeVpcd();
    const port = await vpcd.listen();
    cleanups.push(() => vpcd.close());
    const lines: string[] = [];
    const abort = new AbortController();
    let bridge: VpcdBridge | null = null;
    const done = presentOnVpcd(new ContactlessIcc(new PpseTestCard()), String(port), {
      say: (_zh, en) => lines.push(en),
      signal: abort.signal,
      onStarted: (b) => (bridge = b),
      bridge: { retryDelayMs: 5 },
    });
    await vpcd.connection();
    expect(await vpcd.request("04")).toBe("3B8180018080");
    expect(await vpcd.request("04")).toBe("3B8180018080"); // the same card: said once
    expect((await vpcd.request(toHex(SELECT_PPSE)))?.endsWith("9000")).toBe(true);
    while (!bridge) await new Promise((r) => setTimeout(r, 1));
    const back = new Promise<void>((resolve) => bridge!.once("connected", () => resolve()));
    vpcd.socket!.destroy();
    await back;
    await vpcd.connection();
    expect(await vpcd.request("04")).toBe("3B8180018080");
    abort.abort();
    expect(await done).toEqual({ apdus: 1, insertions: 2 });
    expect(lines).toEqual([
      `on the virtual reader "Virtual PCD 00 ${String(port - 35963).padStart(2, "0")}" (vpcd 127.0.0.1:${port}); Ctrl-C takes it away`,
      "the reader sees: ISO 14443-4 card, ATR 3B 81 80 01 80 80",
      `vpcd went away, reconnecting (127.0.0.1:${port})`,
      `back on "Virtual PCD 00 ${String(port - 35963).padStart(2, "0")}"`,
      "the reader sees: ISO 14443-4 card, ATR 3B 81 80 01 80 80",
      "taken away from the reader (1 APDUs answered)",
    ]);
  });

  it("fails at once, saying how to set vpcd up, when vpcd is not there", async () => {
    const gone = new FakeVpcd();
    const port = await gone.listen();
    await new Promise<void>((resolve) => gone.server.close(() => resolve()));
    await expect(
      presentOnVpcd(new ContactlessIcc(new PpseTestCard()), `127.0.0.1:${port}`),
    ).rejects.toMatchObject({
      code: "vpcd_unreachable",
      zh: expect.stringContaining("setup-pcsc.sh"),
    });
  });
});
