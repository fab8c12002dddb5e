/**
 * Installed instances and their contactless registry state. NVM is the truth (namespace "sys", written
 * only inside transactions); `InstanceTable` is the RAM view routing reads, rebuilt from NVM after every
 * committed transaction that touched "sys" and at power-up.
 */
import { type Bytes, fromHex, toHex } from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";
import type { Applet, AppletContext, AppletPackage, ContactlessInfo, Json } from "./applet.js";
import { CL_STATE, isSelectableLifecycle } from "./gp.js";
import type { Transaction } from "./store.js";

export const SYS = "sys";
export const instanceKey = (hex: string): string => `inst:${hex}`;
export const clKey = (hex: string): string => `cl:${hex}`;
export const DEFAULT_PAYMENT_KEY = "crs.defaultPayment";
export const EXPRESS_TRANSIT_KEY = "crs.expressTransit";
export const NEXT_SEQ_KEY = "inst.next";
/** Store namespace of an instance's own data. */
export const appletNamespace = (hex: string): string => `app:${hex}`;

/** An installed instance as NVM keeps it. */
export interface InstanceRecord {
  [key: string]: Json;
  package: string;
  params: Json;
  lifecycle: number;
  /** Privileges as hex (0, 1 or 3 bytes). */
  privileges: string;
  /** Install order: partial SELECT and GET STATUS list instances in this order. */
  seq: number;
}

/** An installed instance as the runtime uses it. */
export interface Instance {
  aid: Bytes;
  hex: string;
  packageId: string;
  params: Json;
  lifecycle: number;
  privileges: Bytes;
  seq: number;
  applet: Applet;
  contactless: ContactlessInfo | undefined;
  /** Names a SELECT by DF name matches: the instance AID, then its extra selection AIDs. */
  names: Bytes[];
  /** Contactless activation state (CL_STATE). */
  cl: number;
  namespace: string;
}

interface Built {
  packageId: string;
  paramsText: string;
  applet: Applet;
  contactless: ContactlessInfo | undefined;
}

export class InstanceTable {
  /** Instances in install order. */
  list: Instance[] = [];
  private byHex = new Map<string, Instance>();
  defaultPayment: string | null = null;
  expressTransit: string | null = null;
  /** Applet objects made by INSTALL before its commit, picked up by the next rebuild. */
  private readonly prepared = new Map<string, Built>();

  constructor(private readonly packages: ReadonlyMap<string, AppletPackage>) {}

  get(aidOrHex: Bytes | string): Instance | undefined {
    return this.byHex.get(typeof aidOrHex === "string" ? aidOrHex : toHex(aidOrHex));
  }

  /** Builds the applet object of a new instance (inside its INSTALL transaction). Package code may throw. */
  prepare(packageId: string, aid: Bytes, params: Json): Built {
    const built = this.create(packageId, aid, params);
    this.prepared.set(toHex(aid), built);
    return built;
  }

  discardPrepared(): void {
    this.prepared.clear();
  }

  /**
   * Re-reads "sys" through `reader` (a transaction with nothing buffered). Applet objects of unchanged
   * instances are kept (their transient state survives); `fresh` drops them all (power-up).
   * Throws `TapwalletError("se_unknown_package")` when an instance's package is not available.
   */
  rebuild(reader: Transaction, fresh = false): void {
    const old = fresh ? new Map<string, Instance>() : this.byHex;
    const list: Instance[] = [];
    for (const key of reader.keys(SYS, "inst:")) {
      const hex = key.slice(5);
      const rec = reader.get<InstanceRecord>(SYS, key)!;
      const paramsText = JSON.stringify(rec.params);
      const prev = old.get(hex);
      let built: Built | undefined = this.prepared.get(hex);
      if (!built && prev && prev.packageId === rec.package && JSON.stringify(prev.params) === paramsText)
        built = { packageId: prev.packageId, paramsText, applet: prev.applet, contactless: prev.contactless };
      if (!built || built.packageId !== rec.package || built.paramsText !== paramsText)
        built = this.create(rec.package, fromHex(hex), rec.params);
      const contactless = built.contactless;
      const aid = fromHex(hex);
      list.push({
        aid,
        hex,
        packageId: rec.package,
        params: rec.params,
        lifecycle: rec.lifecycle,
        privileges: fromHex(rec.privileges),
        seq: rec.seq,
        applet: built.applet,
        contactless,
        names: [aid, ...(contactless?.selectionAids ?? [])],
        cl: reader.get<number>(SYS, clKey(hex)) ?? CL_STATE.NON_ACTIVATABLE,
        namespace: appletNamespace(hex),
      });
    }
    list.sort((a, b) => a.seq - b.seq);
    this.list = list;
    this.byHex = new Map(list.map((i) => [i.hex, i]));
    this.defaultPayment = reader.get<string>(SYS, DEFAULT_PAYMENT_KEY) ?? null;
    this.expressTransit = reader.get<string>(SYS, EXPRESS_TRANSIT_KEY) ?? null;
    this.prepared.clear();
  }

  private create(packageId: string, aid: Bytes, params: Json): Built {
    const pkg = this.packages.get(packageId);
    if (!pkg)
      throw new TapwalletError(
        "se_unknown_package",
        `安全元件中的应用实例 ${toHex(aid)} 使用的应用包 "${packageId}" 不可用`,
        `instance ${toHex(aid)} on the SE uses applet package "${packageId}", which is not available`,
        { packageId, aid: toHex(aid) },
      );
    return {
      packageId,
      paramsText: JSON.stringify(params),
      applet: pkg.create({ aid, params }),
      contactless: pkg.contactless?.({ aid, params }),
    };
  }
}

export const isSelectable = (i: Instance): boolean => isSelectableLifecycle(i.lifecycle);

/** Thrown by built-in applications to end a command with `sw` and roll back its writes. */
export class AbortCommand extends Error {
  constructor(readonly sw: number) {
    super(`command aborted with ${sw.toString(16)}`);
    this.name = "AbortCommand";
  }
}

/** What the built-in applications (card manager, CRS, PPSE) need from the SE runtime. */
export interface Kernel {
  readonly instances: InstanceTable;
  readonly packages: ReadonlyMap<string, AppletPackage>;
  /** Whether the phone is locked now (only the express transit card answers the field then). */
  locked(): boolean;
  /**
   * Runs `fn` in the transaction of the command being processed, or — from the typed API — in a new one
   * committed (and persisted) when `fn` returns and rolled back when it throws.
   */
  transact<T>(fn: (txn: Transaction) => T): T;
  /** The context an instance's code runs with inside `txn`. */
  contextFor(
    txn: Transaction,
    instance: { aid: Bytes; namespace: string },
    selectedAid?: Bytes,
  ): AppletContext;
  /** An instance is being deleted: drop it from every interface's selection. */
  forget(hex: string): void;
}
