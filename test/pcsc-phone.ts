/**
 * A phone for the PC/SC interop tests: one SE (kept in a `MemoryStorage`, as the phone keeps its SE file)
 * holding a T-Union card, a UnionPay token (default payment card) and a door card, each put there through
 * the SE's card manager under SCP03 as the TSM would; and the terminals that accept them: metro gates and a
 * bus validator with a PSAM on the development keys, a top-up machine on the transit issuer's host, a
 * QuickPass POS on a local issuer host, a door reader. Not a test file itself.
 */
import { type Bytes, fromHex } from "../src/core/bytes.js";
import { DEV_SE_MASTER_KEY, diversifySeKeys } from "../src/se/factory-keys.js";
import { VirtualPhone, resolveModel } from "../src/device/index.js";
import { ManualClock } from "../src/core/clock.js";
import type { Fen } from "../src/core/money.js";
import { installTokenOnSe } from "../src/emv/card/install.js";
import { qpbocPackage } from "../src/emv/card/package.js";
import { createLocalIssuer } from "../src/emv/issuer/local.js";
import { defaultTerminalConfig, unionPayAid } from "../src/emv/terminal/config.js";
import { Pos } from "../src/emv/terminal/pos.js";
import { AID } from "../src/emv/profile.js";
import { luhnCheckDigit } from "../src/emv/track2.js";
import { blankCard, setBlock } from "../src/mifare/card.js";
import { doorPackage } from "../src/mifare/door-applet.js";
import { DoorReader } from "../src/mifare/door-reader.js";
import { addDoorCardForTest } from "../src/mifare/testing/door-card.js";
import type { Activation, ContactlessCard, Link } from "../src/nfc/link.js";
import { MemoryStorage } from "../src/se/persistence.js";
import type { SecureElement } from "../src/se/secure-element.js";
import { TEST_KEYS, createTestSecureElement } from "../src/se/testing/provision.js";
import { seededRandom } from "../src/se/testing/random.js";
import { getProduct } from "../src/transit/catalogue.js";
import { LocalIssuer as TransitIssuer } from "../src/transit/issuer.js";
import { DEVELOPMENT_KEY_SEED, IssuerKeyStore, keyDomainOf } from "../src/transit/keys.js";
import { epursePackage, installTransitCard } from "../src/transit/phone.js";
import { Psam, PsamClient } from "../src/transit/psam.js";
import { hostLink } from "../src/transit/sandbox.js";
import { Blacklist } from "../src/transit/terminal/blacklist.js";
import { EXAMPLE_FARES } from "../src/transit/terminal/fares.js";
import { BusValidator, MetroGate } from "../src/transit/terminal/gate.js";
import { type LoadHost, loadCard, localLoadHost } from "../src/transit/terminal/load.js";
import { GateLog } from "../src/transit/terminal/log.js";
import { EXAMPLE_OPERATOR } from "../src/transit/sandbox.js";

const T_UNION_PRODUCT = "tu-jingjinji";
/** A made-up UnionPay debit card number (Luhn-valid) funding the token. */
export const FUNDING_PAN = "621700000087654321" + luhnCheckDigit("621700000087654321");
/** The door card's UID and the credential its site wrote in block 4 (sector 1, default keys). */
export const DOOR_UID = fromHex("C0FFEE01");
export const DOOR_CREDENTIAL = fromHex("54415057414C4C455400000000000042");
export const DOOR_KEY = fromHex("FFFFFFFFFFFF");

export interface PhoneWorld {
  clock: ManualClock;
  se: SecureElement;
  storage: MemoryStorage;
  transitAid: Bytes;
  doorAid: Bytes;
  bank: ReturnType<typeof createLocalIssuer>;
  /** The wallet's own top-up (through the phone's host channel to its SE). */
  topUp(amount: Fen): Promise<void>;
  /** A top-up machine (充值机) loading the card over the field, on the transit issuer's host. */
  loadHost: LoadHost;
  gate(station: string, direction: "entry" | "exit"): MetroGate;
  bus(fare: Fen): BusValidator;
  pos(options?: { floorLimit?: Fen }): Pos;
  door(): DoorReader;
  /** Makes the door card the one the field presents (true) or puts it away (false). */
  useDoorCard(on: boolean): void;
}

export async function phoneWorld(): Promise<PhoneWorld> {
  const clock = new ManualClock("2026-03-02T00:30:00Z");
  const random = seededRandom(11);
  const storage = new MemoryStorage();
  const se = createTestSecureElement({
    packages: [epursePackage, qpbocPackage, doorPackage],
    clock,
    random,
    storage,
  });

  // Transit: the issuer opens a T-Union card, the TSM installs it.
  const keys = new IssuerKeyStore(DEVELOPMENT_KEY_SEED);
  const transit = new TransitIssuer(keys, clock);
  const product = getProduct(T_UNION_PRODUCT)!;
  const transitAid = installTransitCard(se, transit.issue(product.id), {
    keys: TEST_KEYS,
    hostChallenge: random(8),
  });
  const loadHost = localLoadHost(transit);

  // Bank card: the issuer opens an account and issues a token with an offline balance.
  const bank = createLocalIssuer(clock, random);
  await bank.host.openAccount({
    fundingPan: FUNDING_PAN,
    holder: "测试用户 TEST USER",
    available: 10_000_00,
  });
  const token = await bank.host.issueToken({
    fundingPan: FUNDING_PAN,
    kind: "debit",
    deviceId: "pcsc-phone",
    offline: { balance: 500_00 },
  });
  installTokenOnSe(se, TEST_KEYS, { kind: "debit", personalisation: token.personalisation }, random(8));

  // Door card: a copied card (default keys, credential in block 4), installed but not the active one.
  const doorCard = blankCard({ type: "1k", uid: DOOR_UID });
  setBlock(doorCard.memory!, 4, DOOR_CREDENTIAL);
  const doorAid = addDoorCardForTest(se, doorCard, { activate: false });

  const domain = keyDomainOf(product);
  let terminals = 0;
  const psam = () =>
    new PsamClient(
      new Psam(
        [keys.purchaseKey(domain, "3des"), keys.purchaseKey(domain, "sm4")],
        fromHex(`00003000A0${(++terminals).toString(16).padStart(2, "0")}`),
      ),
    );
  const terminal = (id: string) => ({
    id,
    operator: EXAMPLE_OPERATOR,
    accepts: ["t-union"] as const,
    psam: psam(),
    blacklist: new Blacklist(),
    log: new GateLog(id, EXAMPLE_OPERATOR.id),
    clock,
  });

  return {
    clock,
    se,
    storage,
    transitAid,
    doorAid,
    bank,
    loadHost,
    async topUp(amount) {
      const link = hostLink(se);
      await link.fieldOn();
      const r = await loadCard(link, loadHost, amount, { system: product.system, aid: transitAid });
      await link.fieldOff();
      if (!r.ok) throw new Error(`top-up failed: ${JSON.stringify(r.error)}`);
    },
    gate: (station, direction) =>
      new MetroGate({
        ...terminal(`GATE-${station}-${direction}`),
        station,
        direction,
        fares: EXAMPLE_FARES,
      }),
    bus: (fare) => new BusValidator({ ...terminal("BUS-1"), line: "1", fare }),
    pos: (o = {}) =>
      new Pos({
        config: defaultTerminalConfig({
          aids: [unionPayAid(AID.debit, { floorLimit: o.floorLimit ?? 0 }), unionPayAid(AID.credit)],
        }),
        issuer: bank.host,
        clock,
        random,
      }),
    door: () =>
      new DoorReader(
        { mode: "sector", block: 4, keyType: "A", key: DOOR_KEY, credentials: [DOOR_CREDENTIAL] },
        clock,
        { id: "lobby" },
      ),
    useDoorCard(on) {
      const r = on ? se.registry.activate(doorAid) : se.registry.deactivate(doorAid);
      if (!r.ok) throw new Error(`door card ${on ? "activation" : "deactivation"}: ${r.error.reason}`);
    },
  };
}

/** GET BALANCE of the T-Union card through any link (selects it by its public AID first). */
export async function balanceOf(link: Link): Promise<number> {
  const select = await link.transceive(fromHex("00A4040008A00000063201010500"));
  if (select[select.length - 2] !== 0x90) throw new Error("the T-Union application did not answer");
  const r = await link.transceive(fromHex("805C000204"));
  if (r.length !== 6 || r[4] !== 0x90) throw new Error("GET BALANCE failed");
  return ((r[0]! << 24) | (r[1]! << 16) | (r[2]! << 8) | r[3]!) >>> 0;
}

/** Where an unplug falls relative to the command that triggers it. */
export type UnplugMoment =
  /** The command never reaches the card. */
  | "before"
  /** The card loses power after `writes` physical NVM writes of the command (a torn write, then recovery). */
  | "torn"
  /** The card completes the command; its answer is lost. */
  | "after";

/**
 * The phone's SE behind a hand that pulls it out of the reader at a chosen command: `arm(when, moment,
 * unplug)` calls `unplug` (stopping the bridge) while that command is in the card, so vpcd never gets the
 * answer. A torn moment cuts the SE's power after `writes` NVM writes, as a phone leaving the field would.
 */
export class UnpluggableCard implements ContactlessCard {
  private armed: {
    when: (c: Bytes) => boolean;
    moment: UnplugMoment;
    writes: number;
    unplug: () => void;
  } | null = null;
  /** What happened at the trigger: whether the card answered (false when torn before the answer). */
  fired: { answered: boolean } | null = null;

  constructor(readonly se: SecureElement) {}

  arm(when: (command: Bytes) => boolean, moment: UnplugMoment, unplug: () => void, writes = 1): void {
    this.armed = { when, moment, writes, unplug };
    this.fired = null;
  }

  activate(): Activation {
    return this.se.activate();
  }

  deactivate(): void {
    this.se.deactivate();
  }

  process(command: Bytes): Bytes {
    const a = this.armed;
    if (!a || !a.when(command)) return this.se.process(command);
    this.armed = null;
    let answer: Bytes = new Uint8Array(0);
    if (a.moment === "torn") this.se.nvm.cutPowerAfterWrites(a.writes);
    if (a.moment !== "before") answer = this.se.process(command);
    if (this.se.nvm.powerCutArmed) this.se.nvm.cancelPowerCut(); // the command wrote less than `writes`
    this.fired = { answered: answer.length > 0 };
    a.unplug();
    return answer;
  }
}

/**
 * A virtual phone in a state directory (what `tapwallet phone init` makes) holding a T-Union card topped up
 * with `balance`, put there locally as the TSM would (the SE's keys from the development factory master).
 */
export async function phoneInDir(dir: string, balance: Fen, clock = new ManualClock("2026-03-02T00:30:00Z")) {
  const phone = VirtualPhone.create(dir, { name: "pcsc", model: resolveModel("小米9"), region: "CN", clock });
  const keys = diversifySeKeys(DEV_SE_MASTER_KEY, phone.se.serial);
  const transit = new TransitIssuer(new IssuerKeyStore(DEVELOPMENT_KEY_SEED), clock);
  const product = getProduct(T_UNION_PRODUCT)!;
  const aid = installTransitCard(phone.se, transit.issue(product.id), {
    keys,
    hostChallenge: fromHex("0102030405060708"),
  });
  const link = hostLink(phone.se);
  await link.fieldOn();
  const r = await loadCard(link, localLoadHost(transit), balance, { system: product.system, aid });
  await link.fieldOff();
  if (!r.ok) throw new Error(`top-up failed: ${JSON.stringify(r.error)}`);
  return { phone, aid };
}
