/**
 * The web app's request signing (web/src/api/signing.ts) is the server's scheme: a phone key made with
 * WebCrypto (Node's implementation of the same API the browser uses) binds a device and checks in, and a
 * tampered body or a replayed nonce is refused. Runs against the real server over HTTP.
 */
import { webcrypto } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalString as serverCanonical } from "../../src/cloud/devices/signing.js";
import { ApiClient, ApiError } from "../../web/src/api/client.js";
import { createApi } from "../../web/src/api/endpoints.js";
import {
  canonicalString,
  signatureHeaders,
  toBase64,
  type RequestSigner,
} from "../../web/src/api/signing.js";
import { startWalletServer, type WalletServer } from "./harness.js";

const subtle = webcrypto.subtle;

async function newKey(): Promise<{ signer: RequestSigner; publicKey: string }> {
  const pair = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const spki = new Uint8Array(await subtle.exportKey("spki", pair.publicKey));
  return {
    publicKey: toBase64(spki),
    signer: {
      sign: async (data) =>
        new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data)),
      sha256: async (data) => new Uint8Array(await subtle.digest("SHA-256", data)),
      randomBytes: (n) => webcrypto.getRandomValues(new Uint8Array(n)),
    },
  };
}

describe("device request signing from the web app", () => {
  let server: WalletServer;
  let token: string | undefined;
  let api: ReturnType<typeof createApi>;
  beforeAll(async () => {
    server = await startWalletServer(false);
    api = createApi(new ApiClient({ baseUrl: server.url, token: () => token }));
    await api.accounts.requestCode("13900139000");
    token = (await api.accounts.signIn("13900139000", await server.codeFor("13900139000"))).token;
  });
  afterAll(async () => {
    await server.close();
  });

  it("builds the same canonical string as the server", async () => {
    const { signer } = await newKey();
    const parts = {
      method: "post",
      path: "/api/v1/device/checkin?x=1",
      body: '{"appVersion":"1"}',
      timestamp: 1700000000123,
      nonce: "abcdefghijklmnop",
    };
    expect(await canonicalString(signer, parts)).toBe(serverCanonical({ ...parts, body: parts.body }));
    expect(await canonicalString(signer, { ...parts, body: undefined })).toBe(
      serverCanonical({ ...parts, body: undefined }),
    );
  });

  it("binds a phone with a signed request and then checks in as that phone", async () => {
    const key = await newKey();
    const seId = "A1B2C3D4E5F60718293A4B5C6D7E8F90";
    const device = await api.devices.bind(
      { model: "sagit", region: "CN", publicKey: key.publicKey, seId, name: "测试机" },
      { signer: key.signer },
    );
    expect(device).toMatchObject({
      model: { code: "sagit", zh: "小米6" },
      region: "CN",
      seId,
      name: "测试机",
      lost: false,
    });
    const { device: seen } = await api.device.checkIn(
      { signer: key.signer, deviceId: device.id },
      "web-test",
    );
    expect(seen).toMatchObject({ id: device.id, appVersion: "web-test" });
  });

  it("is refused when the body is not the one signed, or a nonce comes back", async () => {
    const key = await newKey();
    const device = await api.devices.bind(
      { model: "cepheus", region: "CN", publicKey: key.publicKey, seId: "00112233445566778899AABBCCDDEEFF" },
      { signer: key.signer },
    );
    const path = "/api/v1/device/checkin";
    const body = JSON.stringify({ appVersion: "1.0" });
    const headers = await signatureHeaders(
      key.signer,
      { method: "POST", path, body, timestamp: Date.now(), nonce: "nonce-0123456789abcdef" },
      device.id,
    );
    const send = (b: string) =>
      fetch(server.url + path, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: b,
      });

    const tampered = await send(JSON.stringify({ appVersion: "2.0" }));
    expect(tampered.status).toBe(401);
    expect(((await tampered.json()) as { error: string }).error).toBe("bad_signature");
    expect((await send(body)).status).toBe(200);
    const replay = await send(body);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { error: string }).error).toBe("nonce_replayed");
  });

  it("gets the refusal for an unsupported model in both languages", async () => {
    const key = await newKey();
    const e = await api.devices
      .bind(
        { model: "ginkgo", region: "CN", publicKey: key.publicKey, seId: "FFEEDDCCBBAA99887766554433221100" },
        { signer: key.signer },
      )
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({
      status: 403,
      code: "unsupported_model",
      messages: {
        zh: "该机型（ginkgo）不支持小米支付",
        en: "This phone model (ginkgo) does not support Mi Pay",
      },
    });
  });
});
