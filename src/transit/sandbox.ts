/**
 * A self-contained transit world in one process: a phone's SE, the transit issuers' host (load keys, card
 * numbers), a TSM that knows the SE's card manager keys, and the operators' PSAMs, gates and validators —
 * all on the development keys. `tapwallet demo transit`, the benchmarks and the integration tests use it; the
 * cloud (issue 6) replaces the issuer and the TSM with its services.
 */
import { randomBytes } from "node:crypto";
import { type Bytes, fromHex, toHex } from "../core/bytes.js";
import { type Clock, ManualClock } from "../core/clock.js";
import type { Fen } from "../core/money.js";
import type { Result } from "../core/result.js";
import type { Activation, Link } from "../nfc/link.js";
import { MemoryLink } from "../nfc/memory.js";
import type { AppletPackage, HostSignals } from "../se/applet.js";
import type { Scp03Keys } from "../se/scp03.js";
import { SecureElement, type SeStorage } from "../se/secure-element.js";
import { PRODUCTS, type TransitSystem } from "./catalogue.js";
import type { EpurseAlgorithm } from "./epurse-crypto.js";
import { type IssueOptions, type IssuedCard, LocalIssuer } from "./issuer.js";
import { DEVELOPMENT_KEY_SEED, IssuerKeyStore, type PurchaseKey, keyDomainOf } from "./keys.js";
import { epursePackage, installTransitCard, productOfInstance, setExpressTransitCard } from "./phone.js";
import { Psam, PsamClient } from "./psam.js";
import { Blacklist } from "./terminal/blacklist.js";
import { EXAMPLE_FARES, type FareTable } from "./terminal/fares.js";
import { BusValidator, MetroGate, type Operator } from "./terminal/gate.js";
import { type LoadDone, type LoadFailure, loadCard, localLoadHost } from "./terminal/load.js";
import { GateLog } from "./terminal/log.js";

export interface SandboxOptions {
  clock?: Clock;
  /** The SE's random bytes (seed them for repeatable runs). */
  random?: (length: number) => Bytes;
  /** Where the SE image goes after each transaction (default: memory only). */
  storage?: SeStorage;
  /** Whether the phone is locked (only the express transit card answers then). */
  host?: HostSignals;
  /** Extra applet packages on the SE (bank cards, door cards). */
  packages?: AppletPackage[];
}

/** Beijing Subway as the example operator (GB/T 13497 city 1000, institution of the Beijing T-Union issuer). */
export const EXAMPLE_OPERATOR: Operator = {
  id: "bj-subway",
  name: { zh: "北京地铁", en: "Beijing Subway" },
  city: "1000",
  institution: "01011000FFFFFFFF",
};

/** Every key domain's purchase keys (3DES and SM4), as an operator's PSAMs would hold them. */
function allPurchaseKeys(keys: IssuerKeyStore): PurchaseKey[] {
  const domains = new Set(PRODUCTS.map(keyDomainOf));
  const out: PurchaseKey[] = [];
  for (const d of domains)
    for (const alg of ["3des", "sm4"] as EpurseAlgorithm[]) out.push(keys.purchaseKey(d, alg));
  return out;
}

/** The phone's own channel to its SE (OMAPI) as a `Link`, for the wallet's top-ups. */
export function hostLink(se: SecureElement): Link {
  let on = false;
  const activation: Activation = { uid: Uint8Array.of(0, 0, 0, 0), atqa: Uint8Array.of(0, 4), sak: 0x20 };
  return {
    get activation() {
      return on ? activation : null;
    },
    async fieldOn() {
      on = true;
      return activation;
    },
    async transceive(command) {
      return se.host.transmit(command);
    },
    async fieldOff() {
      on = false;
      se.host.reset();
    },
  };
}

export class TransitSandbox {
  readonly clock: Clock;
  readonly keys = new IssuerKeyStore(DEVELOPMENT_KEY_SEED);
  readonly issuer: LocalIssuer;
  readonly se: SecureElement;
  /** The SE's card manager keys, as the TSM keeps them. */
  private readonly cardManagerKeys: Scp03Keys;
  private readonly random: (length: number) => Bytes;
  private terminals = 0;

  constructor(o: SandboxOptions = {}) {
    this.clock = o.clock ?? new ManualClock("2026-03-02T00:30:00Z");
    this.random = o.random ?? ((n) => new Uint8Array(randomBytes(n)));
    this.issuer = new LocalIssuer(this.keys, this.clock);
    this.cardManagerKeys = {
      enc: this.random(16),
      mac: this.random(16),
      dek: this.random(16),
      version: 0x30,
    };
    this.se = SecureElement.manufacture({
      packages: [epursePackage, ...(o.packages ?? [])],
      keys: this.cardManagerKeys,
      clock: this.clock,
      random: this.random,
      ...(o.storage ? { storage: o.storage } : {}),
      ...(o.host ? { host: o.host } : {}),
    });
  }

  /** Opens a card of `productId` at the issuer and installs it on the phone (refused by the phone's rules). */
  addCard(productId: string, o: IssueOptions = {}): { aid: Bytes; card: IssuedCard } {
    const card = this.issuer.issue(productId, o);
    const aid = installTransitCard(this.se, card, {
      keys: this.cardManagerKeys,
      hostChallenge: this.random(8),
    });
    return { aid, card };
  }

  /** Makes a card the express transit card. */
  setExpress(aid: Bytes): void {
    setExpressTransitCard(this.se, aid);
  }

  /** A top-up from the wallet: the phone drives its SE, the issuer's host authorises with MAC1/MAC2/TAC. */
  async topUp(aid: Bytes, amount: Fen): Promise<Result<LoadDone, LoadFailure>> {
    const product = productOfInstance(aid);
    if (!product) throw new RangeError(`no transit product has instance AID ${toHex(aid)}`);
    const link = hostLink(this.se);
    await link.fieldOn();
    try {
      return await loadCard(link, localLoadHost(this.issuer), amount, { system: product.system, aid });
    } finally {
      await link.fieldOff();
    }
  }

  /** A reader's field with the phone in it. */
  field(): MemoryLink {
    return new MemoryLink(this.se);
  }

  /** A PSAM holding every domain's purchase keys, with its own terminal number. */
  psam(): PsamClient {
    const n = ++this.terminals;
    return new PsamClient(
      new Psam(allPurchaseKeys(this.keys), fromHex(`0000300089${n.toString(16).padStart(2, "0")}`)),
    );
  }

  metroGate(o: {
    station: string;
    direction: "entry" | "exit";
    accepts?: readonly TransitSystem[];
    fares?: FareTable;
    blacklist?: Blacklist;
    log?: GateLog;
    recordExchanges?: boolean;
  }): MetroGate {
    const id = `GATE-${o.station}-${o.direction === "entry" ? "IN" : "OUT"}`;
    return new MetroGate({
      id,
      operator: EXAMPLE_OPERATOR,
      accepts: o.accepts ?? ["t-union", "city-union", "beijing"],
      psam: this.psam(),
      blacklist: o.blacklist ?? new Blacklist(),
      log: o.log ?? new GateLog(id, EXAMPLE_OPERATOR.id),
      clock: this.clock,
      station: o.station,
      direction: o.direction,
      fares: o.fares ?? EXAMPLE_FARES,
      ...(o.recordExchanges ? { recordExchanges: true } : {}),
    });
  }

  busValidator(o: {
    line: string;
    fare: Fen;
    accepts?: readonly TransitSystem[];
    log?: GateLog;
    recordExchanges?: boolean;
  }): BusValidator {
    const id = `BUS-${o.line}`;
    return new BusValidator({
      id,
      operator: EXAMPLE_OPERATOR,
      accepts: o.accepts ?? ["t-union", "city-union", "beijing"],
      psam: this.psam(),
      blacklist: new Blacklist(),
      log: o.log ?? new GateLog(id, EXAMPLE_OPERATOR.id),
      clock: this.clock,
      line: o.line,
      fare: o.fare,
      ...(o.recordExchanges ? { recordExchanges: true } : {}),
    });
  }
}
