/**
 * Virtual phones against a real cloud in the same process: `buildServer` listening on a random local port
 * (the phone's client talks HTTP to it with fetch, exactly as the CLI does), on SQLite and PostgreSQL
 * through the cloud tests' harness. The phone and the server share one ManualClock, so signatures are in
 * their window and time only moves when a test says so.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Bytes, fromHex } from "../src/core/bytes.js";
import { type MifareCard, blankCard } from "../src/mifare/card.js";
import { exportDump } from "../src/mifare/formats/index.js";
import type { AppletPackage } from "../src/se/applet.js";
import { type Fetch, VirtualPhone, Wallet, resolveModel } from "../src/device/index.js";
import { type Backend, type TestCloud, bearer, makeCloud } from "./cloud-harness.js";

export interface LiveCloud extends TestCloud {
  url: string;
}

export async function startCloud(backend: Backend, seed?: string): Promise<LiveCloud> {
  const cloud = await makeCloud(backend, seed ? { seed } : {});
  const url = await cloud.app.listen({ port: 0, host: "127.0.0.1" });
  return { ...cloud, url };
}

const dirs: string[] = [];

export function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tw-phone-"));
  dirs.push(dir);
  return dir;
}

export function removeStateDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface TestPhone {
  phone: VirtualPhone;
  wallet: Wallet;
  mobile: string;
}

/** The headers of the phone's user's own requests (their session, as the web app sends it). */
export const signedInHeaders = (p: TestPhone) => bearer(p.phone.cloud!.session!.token);

/** A phone made at the factory, signed in to `mobile`'s account and (unless told not to) registered. */
export async function phoneOn(
  cloud: LiveCloud,
  mobile: string,
  options: {
    model?: string;
    region?: string;
    register?: boolean;
    packages?: AppletPackage[];
    fetch?: Fetch;
    factoryMasterKey?: Bytes;
  } = {},
): Promise<TestPhone> {
  const phone = VirtualPhone.create(stateDir(), {
    name: `phone-${mobile.slice(-4)}`,
    model: resolveModel(options.model ?? "小米9"),
    region: options.region ?? "CN",
    clock: cloud.clock,
    ...(options.packages ? { packages: options.packages } : {}),
    ...(options.factoryMasterKey ? { factoryMasterKey: options.factoryMasterKey } : {}),
  });
  const wallet = new Wallet(phone, options.fetch ? { fetch: options.fetch } : {});
  await wallet.requestCode(mobile, cloud.url);
  const code = cloud.otp.last(mobile);
  if (!code) throw new Error("no code was sent");
  await wallet.signIn(mobile, code, cloud.url);
  if (options.register ?? true) await wallet.register();
  return { phone, wallet, mobile };
}

/** A door card in the factory state (every key FFFFFFFFFFFF) with this UID, as a dump file. */
export function doorDump(
  uid: string,
  format: "bin" | "json" | "eml" | "mct" | "nfc" = "bin",
): {
  card: MifareCard;
  bytes: Bytes;
  fileName: string;
} {
  const card = blankCard({ type: "1k", uid: fromHex(uid) });
  const r = exportDump(card, format);
  if (!r.ok) throw new Error(r.error.en);
  return { card, bytes: r.value.bytes, fileName: `card-${uid}.${format}` };
}
