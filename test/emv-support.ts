/**
 * Shared test material for the QuickPass tests: an applet context over plain memory, a personalised token
 * card, and the demo issuer's PKI. Not a test file itself.
 */
import { type CommandApdu, type ResponseApdu, command, parseCommand } from "../src/core/apdu.js";
import { type Bytes, concat, fromHex } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { SW } from "../src/core/sw.js";
import { type RsaKeyPair, generateRsaKey } from "../src/crypto/index.js";
import type { AppletContext, AppletStore, Json } from "../src/se/applet.js";
import { type TokenCardData, buildQpbocPersonalisation } from "../src/emv/card/personalisation.js";
import { QpbocApplet } from "../src/emv/card/qpboc-applet.js";
import { cardMasterKey } from "../src/emv/cryptogram.js";
import { demoIssuerPki } from "../src/emv/pki/issuer-pki.js";
import { AID } from "../src/emv/profile.js";
import { parseTlv, tlv } from "../src/core/tlv.js";
import { tokenInstallScript } from "../src/emv/card/install.js";
import { DGI } from "../src/emv/card/layout.js";
import { qpbocPackage } from "../src/emv/card/package.js";
import { type Dgi, aidOf } from "../src/emv/card/personalisation.js";
import { type AtcWindow, IssuerHost, StaticIssuerKeys } from "../src/emv/issuer/host.js";
import { MemoryIssuerStore } from "../src/emv/issuer/store.js";
import { TokenVault } from "../src/emv/issuer/vault.js";
import { type TerminalConfig, defaultTerminalConfig, unionPayAid } from "../src/emv/terminal/config.js";
import { startTransaction } from "../src/emv/terminal/entry-point.js";
import { Pos } from "../src/emv/terminal/pos.js";
import { luhnCheckDigit } from "../src/emv/track2.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { TracingLink } from "../src/nfc/trace.js";
import { createTestSecureElement, installForTest } from "../src/se/testing/provision.js";
import { seededRandom } from "../src/se/testing/random.js";

const TEST_IMK = fromHex("0123456789ABCDEFFEDCBA9876543210");
const TOKEN_BIN = "629977";
const TOKEN_PAN = "6299770000000018";

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

function testContext(aid: Bytes = AID.debit): TestContext {
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

function tokenCard(overrides: Partial<TokenCardData> = {}): TokenCardData {
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

// ---- a whole QuickPass world: issuer host, a phone's SE with a token, a POS ------------------------------

export const FUNDING_PAN = (() => {
  const body = "622202123456789012";
  return body + luhnCheckDigit(body);
})();

export interface WorldOptions {
  offlineBalance?: number;
  floorLimit?: number;
  ctq?: Bytes;
  /** Change the personalisation before it goes to the SE (e.g. corrupt a certificate). */
  tamper?: (dgis: Dgi[]) => Dgi[];
  algorithm?: "3des" | "sm4";
  atcWindow?: AtcWindow;
}

export async function quickPassWorld(o: WorldOptions = {}) {
  const clock = new ManualClock("2026-03-01T04:00:00Z");
  const random = seededRandom(7);
  const store = new MemoryIssuerStore();
  const keys = new StaticIssuerKeys(
    1,
    new Map([
      [StaticIssuerKeys.id(1, "3des"), TEST_IMK],
      [StaticIssuerKeys.id(1, "sm4"), TEST_IMK],
    ]),
  );
  const vault = new TokenVault(random(32), random);
  const issuer = new IssuerHost({
    store,
    keys,
    vault,
    clock,
    random,
    tokenBin: TOKEN_BIN,
    pki: demoIssuerPki(TOKEN_BIN),
    ...(o.atcWindow ? { atcWindow: o.atcWindow } : {}),
  });
  await issuer.openAccount({ fundingPan: FUNDING_PAN, holder: "测试用户 TEST USER", available: 10_000_00 });
  const issued = await issuer.issueToken({
    fundingPan: FUNDING_PAN,
    kind: "debit",
    deviceId: "phone-1",
    offline: { balance: o.offlineBalance ?? 500_00 },
    ...(o.algorithm ? { algorithm: o.algorithm } : {}),
  });
  let personalisation = issued.personalisation;
  if (o.ctq) {
    personalisation = personalisation.map((d) =>
      d.dgi === DGI.gpoStatic ? { dgi: d.dgi, data: replaceTag(d.data, 0x9f6c, o.ctq!) } : d,
    );
  }
  if (o.tamper) personalisation = o.tamper([...personalisation]);
  const phone = { verifiedAt: null as Date | null };
  const se = createTestSecureElement({
    packages: [qpbocPackage],
    clock,
    host: { lastUserVerification: () => phone.verifiedAt, locked: () => false },
  });
  installForTest(se, tokenInstallScript({ kind: "debit", personalisation }));
  const def = se.registry.setDefaultPayment(aidOf("debit"));
  if (!def.ok) throw new Error(String(def.error));
  const config = defaultTerminalConfig({
    aids: [unionPayAid(AID.debit, { floorLimit: o.floorLimit ?? 0 }), unionPayAid(AID.credit)],
  });
  const pos = new Pos({ config, issuer, clock, random });
  const link = new MemoryLink(se);
  return { clock, random, store, issuer, issued, se, phone, pos, link, config, personalisation };
}

/** Replaces one top-level TLV's value in a TLV list. */
export function replaceTag(data: Bytes, tag: number, value: Bytes): Bytes {
  const t = parseTlv(data, { recurse: false });
  if (!t.ok) throw new Error(t.error);
  return concat(...t.value.map((n) => tlv(n.tag, n.tag === tag ? value : n.value)));
}

// ---- genuine conversations, for the hostile-card tests to damage ------------------------------------------

/** The unpredictable number (and the terminal's random) of the genuine transactions. */
export const GENUINE_UN = fromHex("0A0B0C0D");

/** The card's answers in a genuine transaction of our token card with a POS configured as `config`. */
export async function genuineAnswers(config: TerminalConfig, amount: number): Promise<Bytes[]> {
  const w = await quickPassWorld();
  const link = new TracingLink(w.link);
  await link.fieldOn();
  await startTransaction(
    link,
    config,
    { amount, sequenceCounter: 1, unpredictableNumber: GENUINE_UN },
    { clock: new ManualClock("2026-03-01T04:00:00Z"), random: () => GENUINE_UN },
  );
  return link.records.map((r) => r.response!);
}

/** An online transaction (¥12.34) and an offline one with fDDA (¥100 under a ¥300 floor limit). */
export async function genuineBases() {
  const online = defaultTerminalConfig();
  const offline = defaultTerminalConfig({ aids: [unionPayAid(AID.debit, { floorLimit: 300_00 })] });
  return {
    online: { config: online, answers: await genuineAnswers(online, 12_34), amount: 12_34 },
    offline: { config: offline, answers: await genuineAnswers(offline, 100_00), amount: 100_00 },
  };
}
