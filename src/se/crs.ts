/**
 * The contactless registry (GlobalPlatform Amendment C style): which instances the NFC field reaches.
 *
 * - Each instance is ACTIVATED, DEACTIVATED or NON_ACTIVATABLE (contact-only packages). New instances start
 *   DEACTIVATED; the wallet activates them.
 * - Activation fails with a conflict when another ACTIVATED instance answers one of the same selection AIDs
 *   (its own AID or `selectionAids`, compared exactly) — the CRS answers 6330 with `A0 { 4F AID … }` — and,
 *   for door cards (category "access"), when another access instance is ACTIVATED: one door card at a time.
 * - One default payment card (listed first in the PPSE) and one express transit card. While the phone is
 *   locked, only the express transit card answers the field. Setting a card as default/express activates it;
 *   deactivating or deleting it clears the role; a new express card takes the role from the previous one.
 *
 * `ContactlessRegistry` is the device layer's typed API; `CrsApplet` (AID A00000015143525300) is the same on
 * APDUs: SET STATUS 80 F0 01 01/00 { 4F AID } and GET STATUS 80 F2 40 P2 { 4F AID [5C tags] } answering
 * `61 { 4F AID, 9F70 [life cycle, contactless state] }` templates (6310 when more follow), as Xiaomi/Huami
 * wallets use them (reference/transit.md §4).
 */
import { type CommandApdu, type ResponseApdu, response } from "../core/apdu.js";
import { type Bytes, equal, startsWith, toHex } from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";
import { type Result, err, ok } from "../core/result.js";
import { SW } from "../core/sw.js";
import { type Tlv, tlv } from "../core/tlv.js";
import type { Applet, ContactlessInfo } from "./applet.js";
import { CL_STATE, CRS_AID, GP_INS, parseAidCriterion, statusPage } from "./gp.js";
import {
  DEFAULT_PAYMENT_KEY,
  EXPRESS_TRANSIT_KEY,
  type Instance,
  type Kernel,
  SYS,
  clKey,
  isSelectable,
} from "./instances.js";
import type { Transaction } from "./store.js";

export type RegistryError =
  | { reason: "not_found" }
  | { reason: "not_activatable" }
  | { reason: "conflict"; conflicts: Bytes[] }
  | { reason: "wrong_category"; category: ContactlessInfo["category"] | null };

export type ContactlessState = "activated" | "deactivated" | "non-activatable";

export interface RegistryEntry {
  aid: Bytes;
  packageId: string;
  category: ContactlessInfo["category"] | null;
  state: ContactlessState;
  lifecycle: number;
  defaultPayment: boolean;
  expressTransit: boolean;
}

const stateName = (cl: number): ContactlessState =>
  cl === CL_STATE.ACTIVATED ? "activated" : cl === CL_STATE.DEACTIVATED ? "deactivated" : "non-activatable";

const clOf = (txn: Transaction, i: Instance): number => txn.get<number>(SYS, clKey(i.hex)) ?? i.cl;

/** Other ACTIVATED instances `inst` would clash with (in `txn`'s view). */
function conflictsOf(txn: Transaction, instances: readonly Instance[], inst: Instance): Instance[] {
  const access = inst.contactless?.category === "access";
  return instances.filter((other) => {
    if (other === inst || clOf(txn, other) !== CL_STATE.ACTIVATED) return false;
    if (access && other.contactless?.category === "access") return true;
    return other.names.some((n) => inst.names.some((m) => equal(n, m)));
  });
}

export class ContactlessRegistry {
  constructor(private readonly k: Kernel) {}

  // ---- the typed API -------------------------------------------------------------------------------

  list(): RegistryEntry[] {
    const t = this.k.instances;
    return t.list.map((i) => ({
      aid: i.aid.slice(),
      packageId: i.packageId,
      category: i.contactless?.category ?? null,
      state: stateName(i.cl),
      lifecycle: i.lifecycle,
      defaultPayment: i.hex === t.defaultPayment,
      expressTransit: i.hex === t.expressTransit,
    }));
  }

  activate(aid: Bytes): Result<void, RegistryError> {
    return this.run(aid, (txn, inst) => this.activateIn(txn, inst));
  }

  deactivate(aid: Bytes): Result<void, RegistryError> {
    return this.run(aid, (txn, inst) => this.deactivateIn(txn, inst));
  }

  /** Makes `aid` (a payment instance) the default payment card, activating it; null clears the default. */
  setDefaultPayment(aid: Bytes | null): Result<void, RegistryError> {
    if (aid === null) return this.clearRole(DEFAULT_PAYMENT_KEY);
    return this.run(aid, (txn, inst) => this.assignRole(txn, inst, "payment", DEFAULT_PAYMENT_KEY));
  }

  /** Makes `aid` (a transit instance) the express transit card, activating it; null clears the role. */
  setExpressTransit(aid: Bytes | null): Result<void, RegistryError> {
    if (aid === null) return this.clearRole(EXPRESS_TRANSIT_KEY);
    return this.run(aid, (txn, inst) => this.assignRole(txn, inst, "transit", EXPRESS_TRANSIT_KEY));
  }

  defaultPayment(): Bytes | null {
    return this.k.instances.get(this.k.instances.defaultPayment ?? "")?.aid.slice() ?? null;
  }

  expressTransit(): Bytes | null {
    return this.k.instances.get(this.k.instances.expressTransit ?? "")?.aid.slice() ?? null;
  }

  /** The door card the field may present now (the MIFARE emulation asks this), or null (none, or locked). */
  activeAccessInstance(): Bytes | null {
    return (
      this.fieldInstances()
        .find((i) => i.contactless?.category === "access")
        ?.aid.slice() ?? null
    );
  }

  /** Instances the NFC field reaches now, in install order (only the express transit card when locked). */
  fieldInstances(): Instance[] {
    return this.k.instances.list.filter((i) => this.reachesField(i));
  }

  /** Whether the field reaches `inst` now: activated, selectable, and the express card if the phone is locked. */
  reachesField(inst: Instance): boolean {
    return (
      inst.cl === CL_STATE.ACTIVATED &&
      isSelectable(inst) &&
      (!this.k.locked() || inst.hex === this.k.instances.expressTransit)
    );
  }

  // ---- registry rules inside a transaction (shared with the CRS applet) -------------------------------

  activateIn(txn: Transaction, inst: Instance): Result<void, RegistryError> {
    const cl = clOf(txn, inst);
    if (cl === CL_STATE.NON_ACTIVATABLE || !isSelectable(inst)) return err({ reason: "not_activatable" });
    if (cl === CL_STATE.ACTIVATED) return ok(undefined);
    const conflicts = conflictsOf(txn, this.k.instances.list, inst);
    if (conflicts.length > 0)
      return err({ reason: "conflict", conflicts: conflicts.map((c) => c.aid.slice()) });
    txn.put(SYS, clKey(inst.hex), CL_STATE.ACTIVATED);
    return ok(undefined);
  }

  deactivateIn(txn: Transaction, inst: Instance): Result<void, RegistryError> {
    if (clOf(txn, inst) !== CL_STATE.ACTIVATED) return ok(undefined);
    txn.put(SYS, clKey(inst.hex), CL_STATE.DEACTIVATED);
    for (const key of [DEFAULT_PAYMENT_KEY, EXPRESS_TRANSIT_KEY])
      if (txn.get<string>(SYS, key) === inst.hex) txn.delete(SYS, key);
    return ok(undefined);
  }

  private assignRole(
    txn: Transaction,
    inst: Instance,
    category: ContactlessInfo["category"],
    key: string,
  ): Result<void, RegistryError> {
    const actual = inst.contactless?.category ?? null;
    if (actual !== category) return err({ reason: "wrong_category", category: actual });
    const activated = this.activateIn(txn, inst);
    if (!activated.ok) return activated;
    txn.put(SYS, key, inst.hex);
    return ok(undefined);
  }

  private clearRole(key: string): Result<void, RegistryError> {
    this.k.transact((txn) => txn.delete(SYS, key));
    return ok(undefined);
  }

  private run(
    aid: Bytes,
    fn: (txn: Transaction, inst: Instance) => Result<void, RegistryError>,
  ): Result<void, RegistryError> {
    const inst = this.k.instances.get(aid);
    if (!inst) return err({ reason: "not_found" });
    return this.k.transact((txn) => fn(txn, inst));
  }
}

/** The typed API's error as a user-facing error (for callers that prefer to throw). */
export function registryError(e: RegistryError, aid: Bytes): TapwalletError {
  const a = toHex(aid);
  switch (e.reason) {
    case "not_found":
      return new TapwalletError(
        "se_instance_not_found",
        `安全元件中没有应用 ${a}`,
        `no instance ${a} on the SE`,
      );
    case "not_activatable":
      return new TapwalletError(
        "se_not_activatable",
        `应用 ${a} 不能在非接触界面激活`,
        `instance ${a} cannot be activated for contactless`,
      );
    case "conflict":
      return new TapwalletError(
        "se_activation_conflict",
        `激活冲突：${e.conflicts.map(toHex).join("、")} 已响应同一 AID`,
        `activation conflict with ${e.conflicts.map(toHex).join(", ")}`,
        { conflicts: e.conflicts.map(toHex) },
      );
    case "wrong_category":
      return new TapwalletError(
        "se_wrong_category",
        `应用 ${a} 的类别不符（${e.category ?? "无"}）`,
        `instance ${a} has the wrong category (${e.category ?? "none"})`,
      );
  }
}

/** GET STATUS answers are cut to stay within a short response (6310 = more; ask again with P2 b1 = 1). */
const STATUS_PAGE = 240;

/** The Contactless Registry Service application on the host interface. */
export class CrsApplet implements Applet {
  /** GET STATUS paging: the remaining entries of the last query. */
  private pending: Bytes[] = [];

  constructor(
    private readonly k: Kernel,
    private readonly registry: ContactlessRegistry,
  ) {}

  select(): ResponseApdu {
    this.pending = [];
    return response(SW.OK, tlv(0x6f, [{ tag: 0x84, value: CRS_AID }]));
  }

  deselect(): void {
    this.pending = [];
  }

  process(c: CommandApdu): ResponseApdu {
    if ((c.cla & 0xf0) !== 0x80) return response(SW.CLA_NOT_SUPPORTED);
    if (c.ins === GP_INS.SET_STATUS) return this.setStatus(c);
    if (c.ins === GP_INS.GET_STATUS) return this.getStatus(c);
    return response(SW.INS_NOT_SUPPORTED);
  }

  private setStatus(c: CommandApdu): ResponseApdu {
    if (c.p1 !== 0x01 || c.p2 > 0x01) return response(SW.INCORRECT_P1P2);
    const q = parseAidCriterion(c.data);
    if (!q.ok) return response(q.error.sw);
    const inst = this.k.instances.get(q.value.aid);
    if (!inst) return response(SW.REFERENCED_DATA_NOT_FOUND);
    const r = this.k.transact((txn) =>
      c.p2 === 0x01 ? this.registry.activateIn(txn, inst) : this.registry.deactivateIn(txn, inst),
    );
    if (r.ok) return response(SW.OK);
    if (r.error.reason === "conflict")
      return response(
        SW.CRS_CONFLICT,
        tlv(
          0xa0,
          r.error.conflicts.map((aid): Tlv => ({ tag: 0x4f, value: aid })),
        ),
      );
    return response(SW.CONDITIONS_NOT_SATISFIED);
  }

  private getStatus(c: CommandApdu): ResponseApdu {
    if (c.p1 !== 0x40 || (c.p2 & 0xfc) !== 0) return response(SW.INCORRECT_P1P2);
    if (c.p2 & 0x01) return statusPage(this.pending, STATUS_PAGE);
    const q = parseAidCriterion(c.data);
    if (!q.ok) return response(q.error.sw);
    const tags = q.value.tagList ?? [0x4f, 0x9f70];
    this.pending = this.k.instances.list
      .filter((i) => startsWith(i.aid, q.value.aid))
      .map((i) => {
        const items: Tlv[] = [];
        for (const tag of tags) {
          if (tag === 0x4f) items.push({ tag, value: i.aid });
          else if (tag === 0x9f70) items.push({ tag, value: Uint8Array.of(i.lifecycle, i.cl) });
        }
        return tlv(0x61, items);
      });
    return statusPage(this.pending, STATUS_PAGE);
  }
}
