/**
 * Paying through the cloud over real HTTP: the server listens on a port; a phone (its SE in a file, as the
 * virtual phone keeps it) gets a token through the TSM; `tapwallet pos --issuer-url` pays against the
 * authorisation endpoint, in-process and as a spawned command; the phone, listening on its server-sent
 * event stream, hears of each payment. On SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signRequest } from "../src/protocol/request-signing.js";
import { posCommand } from "../src/cli/commands/pos.js";
import { FileStorage } from "../src/se/persistence.js";
import { runCli } from "./cli-run.js";
import { backends, bind, freshNonce, signIn } from "./cloud-harness.js";
import {
  CARDS,
  type PaymentsCloud,
  type TestPhone,
  addCard,
  makePaymentsCloud,
  makePhone,
  sync,
} from "./cloud-tsp-harness.js";

/** Reads the phone's event stream until `count` events of `type` arrived (or the time is up). */
async function listen(cloud: PaymentsCloud, base: string, phone: TestPhone, type: string, count: number) {
  const path = "/api/v1/notifications/stream?after=0";
  const headers = signRequest(
    phone.privateKey,
    { method: "GET", path, timestamp: cloud.clock.now().getTime(), nonce: freshNonce(), body: undefined },
    phone.deviceId,
  );
  const abort = new AbortController();
  const res = await fetch(base + path, {
    headers: headers as unknown as Record<string, string>,
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const events: Record<string, unknown>[] = [];
  const done = (async () => {
    const reader = res.body!.getReader();
    let text = "";
    const deadline = Date.now() + 20_000;
    while (events.length < count && Date.now() < deadline) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += Buffer.from(chunk.value).toString("utf8");
      let end: number;
      while ((end = text.indexOf("\n\n")) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        if (!block.includes(`event: ${type}\n`)) continue;
        const data = block.split("\n").find((l) => l.startsWith("data: "));
        if (data) events.push(JSON.parse(data.slice(6)) as Record<string, unknown>);
      }
    }
    abort.abort();
    return events;
  })();
  return done;
}

for (const backend of backends) {
  describe.skipIf(backend.skip)(`paying through the cloud over HTTP on ${backend.name}`, () => {
    let cloud: PaymentsCloud;
    let base: string;
    let dir: string;
    beforeEach(async () => {
      cloud = await makePaymentsCloud(backend, { policy: { notificationPollMs: 50 } });
      await cloud.app.listen({ port: 0, host: "127.0.0.1" });
      const address = cloud.app.server.address();
      base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
      dir = mkdtempSync(join(tmpdir(), "tw-pos-"));
    });
    afterEach(async () => {
      await cloud.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it("tapwallet pos --issuer-url pays with the phone's token; the phone hears of it on its event stream", async () => {
      const seFile = join(dir, "phone-se.json");
      const { token } = await signIn(cloud, "13800138300");
      const phone = makePhone(cloud.clock, new FileStorage(seFile));
      expect((await bind(cloud, token, phone)).statusCode).toBe(201);
      const bc = await addCard(cloud, token, phone, CARDS.icbc[0]!);
      await sync(cloud, phone);
      const heard = listen(cloud, base, phone, "bank_card.payment", 2);

      // In-process: the command's code path against the listening server.
      const run = await posCommand({
        amount: "12.34",
        phone: seFile,
        issuerUrl: base,
        apiKey: cloud.acquirerKey,
        at: cloud.clock.now().toISOString(),
        sequence: "101",
      });
      expect(run.result.status).toBe("approved");
      expect(run.json).toMatchObject({ status: "approved", issuer: { responseCode: "00", approved: true } });
      expect(run.text).toContain("交易成功 / approved");

      // Spawned, as a user runs it: exit code 0 and the same answer.
      const spawned = await runCli([
        "pos",
        "--amount",
        "3.21",
        "--phone",
        seFile,
        "--issuer-url",
        base,
        "--api-key",
        cloud.acquirerKey,
        "--at",
        cloud.clock.now().toISOString(),
        "--sequence",
        "102",
        "--json",
      ]);
      expect(spawned.code, spawned.stderr).toBe(0);
      expect(JSON.parse(spawned.stdout)).toMatchObject({
        status: "approved",
        issuer: { responseCode: "00" },
      });

      const events = await heard;
      expect(events.map((e) => (e["payload"] as { amount: number; cardId: string }).amount)).toEqual([
        12_34, 3_21,
      ]);
      expect(events.every((e) => (e["payload"] as { cardId: string }).cardId === bc.id)).toBe(true);
      expect((await cloud.app.cloud.ledger.account("issuer:ICBC"))!.debitsPosted).toBe(12_34 + 3_21);

      // A wrong key: the POS declines, saying the issuer refused the request.
      const refused = await posCommand({
        amount: "1.00",
        phone: seFile,
        issuerUrl: base,
        apiKey: `twk_${"x".repeat(43)}`,
        at: cloud.clock.now().toISOString(),
        sequence: "103",
      });
      expect(refused.result.status).toBe("declined");
      expect(refused.result.reason.code).toBe("issuer-unavailable");
      // Both --issuer and --issuer-url: a usage error.
      await expect(
        posCommand({ amount: "1.00", phone: seFile, issuer: join(dir, "x.json"), issuerUrl: base }),
      ).rejects.toMatchObject({ code: "pos_usage" });
    }, 90_000);
  });
}
