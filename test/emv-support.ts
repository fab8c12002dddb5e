/**
 * Shared test material for the QuickPass tests: an applet context over plain memory, a personalised token
 * card, and the demo issuer's PKI. Not a test file itself.
 */
import {
  type CommandApdu,
  type ResponseApdu,
  command,
  encodeResponse,
  parseCommand,
} from "../src/core/apdu.js";
import { type Bytes, fromHex } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { SW } from "../src/core/sw.js";
import { type RsaKeyPair, generateRsaKey } from "../src/crypto/index.js";
import type { AppletContext, AppletStore, Json } from "../src/se/applet.js";
import { type TokenCardData, buildQpbocPersonalisation } from "../src/emv/card/personalisation.js";
import { QpbocApplet } from "../src/emv/card/qpboc-applet.js";
import { cardMasterKey } from "../src/emv/cryptogram.js";
import { demoIssuerPki } from "../src/emv/pki/issuer-pki.js";
import { AID } from "../src/emv/profile.js";

export const TEST_IMK = fromHex("0123456789ABCDEFFEDCBA9876543210");
export const TOKEN_BIN = "629977";
export const TOKEN_PAN = "6299770000000018";

export class MemoryStore implements AppletStore {
  readonly cells = new Map<string, string>();
  get<T extends Json = Json>(key: string): T | undefined {
    const v = this.cells.get(key);
    return v === undefined ? undefined : (JSON.parse(v) as T);
  }
  put(key: string, value: Json): void {
    this.cells.set(key, JSON.stringify(value));
  }
  delete(key: string): void {
    this.cells.delete(key);
  }
  keys(prefix = ""): string[] {
    return [...this.cells.keys()].filter((k) => k.startsWith(prefix));
  }
}

export interface TestContext extends AppletContext {
  store: MemoryStore;
  clock: ManualClock;
  verifiedAt: Date | null;
}

export function testContext(aid: Bytes = AID.debit): TestContext {
  let n = 0;
  const ctx: TestContext = {
    store: new MemoryStore(),
    clock: new ManualClock("2026-03-01T04:00:00Z"),
    verifiedAt: null,
    host: { lastUserVerification: () => ctx.verifiedAt, locked: () => false },
    random: (len) => Uint8Array.from({ length: len }, () => (n = (n * 1103515245 + 12345) & 0xff)),
    selectedAid: aid,
  };
  return ctx;
}

let iccKey: RsaKeyPair | undefined;
/** One 1024-bit ICC key for the whole test file (generating one takes tens of milliseconds). */
export function testIccKey(): RsaKeyPair {
  iccKey ??= generateRsaKey(1024, 3);
  return iccKey;
}

export function tokenCard(overrides: Partial<TokenCardData> = {}): TokenCardData {
  return {
    pan: TOKEN_PAN,
    psn: "00",
    expiry: "291231",
    effective: "260101",
    kind: "debit",
    dki: 1,
    offlineBalance: 500_00,
    ...overrides,
  };
}

/** A personalised applet with its context: fDDA-capable unless `fdda` is false. */
export function personalisedApplet(card: Partial<TokenCardData> = {}, fdda = true, imk = TEST_IMK) {
  const data = tokenCard(card);
  const udk = cardMasterKey(imk, data.pan, data.psn, data.algorithm ?? "3des");
  const pki = demoIssuerPki(TOKEN_BIN);
  const dgis = buildQpbocPersonalisation(
    data,
    udk,
    fdda ? { ...pki, iccKey: testIccKey(), certificateSerial: fromHex("000042") } : undefined,
  );
  const aid = data.kind === "debit" ? AID.debit : AID.credit;
  const applet = new QpbocApplet(aid);
  const ctx = testContext(aid);
  for (const d of dgis) {
    const sw = applet.personalize(d.dgi, d.data, ctx);
    if (sw !== SW.OK) throw new Error(`DGI ${d.dgi.toString(16)} refused: ${sw.toString(16)}`);
  }
  return { applet, ctx, dgis, data, udk };
}

/** Sends raw APDU bytes to an applet as the SE would (selected already). */
export function send(applet: QpbocApplet, ctx: AppletContext, apdu: Bytes): ResponseApdu {
  const c = parseCommand(apdu);
  if (!c.ok) return { data: new Uint8Array(0), sw: c.error.sw };
  return applet.process(c.value, ctx);
}

export const selectCommand = (aid: Bytes): CommandApdu => command(0x00, 0xa4, 0x04, 0x00, aid, 256);
export const raw = (r: ResponseApdu): Bytes => encodeResponse(r);
