/**
 * What a queued script does, and the card-manager commands that do it. The spec is what the card services
 * hand the TSM (kept sealed in `tsm_scripts.spec_sealed`); `plan` turns a script into operations against
 * the registry the SE just reported, so a script whose effect is already on the SE (a sync cut off after the
 * SE acted but before the phone reported) completes without being sent twice.
 */
import type { CommandApdu } from "../../core/apdu.js";
import { type Bytes, fromHex, isHex, toHex } from "../../core/bytes.js";
import type { Json } from "../../se/applet.js";
import { type Dgi, LIFECYCLE, deleteCommand } from "../../se/gp.js";
import { installCommands, personalizationCommands } from "../../se/scp03-host.js";
import { type StatusEntry, lifecycleState } from "./status.js";
import type { ScriptKind } from "./tables.js";
import type { RegistryAction } from "../../protocol/tsm-wire.js";

export interface Label {
  zh: string;
  en: string;
}

/** Who asks, and for what: the owning card service and its own reference (card id, load id…). */
export interface ScriptOwner {
  owner: string;
  ref: string;
}

export interface InstallSpec extends ScriptOwner {
  packageId: string;
  aid: Bytes;
  params?: Json;
  privileges?: Bytes;
  /** STORE DATA personalisation sent right after INSTALL (the card service builds the DGIs). */
  personalization?: readonly Dgi[];
  /** How the phone names the card. */
  label?: Label;
}

export interface DeleteSpec extends ScriptOwner {
  aid: Bytes;
}

export interface PersonalizeSpec extends ScriptOwner {
  aid: Bytes;
  personalization: readonly Dgi[];
}

export interface RegistrySpec extends ScriptOwner {
  aid: Bytes;
  action: RegistryAction;
}

export interface RelaySpec extends ScriptOwner {
  /** The applet the conversation is with (selected on the phone's host interface). */
  aid: Bytes;
  /** Name of a handler registered with `tsm.registerRelay`. */
  handler: string;
  /** The handler's own state, handed back at each step. */
  state: Json;
}

/** The sealed JSON of a script. */
export type StoredSpec =
  | {
      kind: "install";
      packageId: string;
      params: Json;
      privileges: string;
      dgis: [number, string][] | null;
      label: Label | null;
    }
  | { kind: "delete" }
  | { kind: "personalize"; dgis: [number, string][] }
  | { kind: "registry"; action: RegistryAction }
  | { kind: "relay"; handler: string; state: Json; started: boolean; steps: number };

export const encodeDgis = (dgis: readonly Dgi[]): [number, string][] =>
  dgis.map((d) => [d.dgi, toHex(d.data)]);
const decodeDgis = (dgis: [number, string][]): Dgi[] =>
  dgis.map(([dgi, data]) => ({ dgi, data: fromHex(data) }));

/** Checks a spec from a card service (a programming error is a RangeError, not a user error). */
export function checkAid(aid: Bytes): string {
  if (aid.length < 5 || aid.length > 16) throw new RangeError("an AID is 5 to 16 bytes");
  return toHex(aid);
}

export function checkDgis(dgis: readonly Dgi[]): void {
  for (const d of dgis)
    if (!Number.isInteger(d.dgi) || d.dgi < 0 || d.dgi > 0xffff) throw new RangeError("a DGI is 0000–FFFF");
}

export function isStoredSpec(v: unknown, kind: ScriptKind): v is StoredSpec {
  return typeof v === "object" && v !== null && (v as { kind?: unknown }).kind === kind;
}

/** What planning decided for one script. */
export type Plan =
  | { type: "commands"; commands: CommandApdu[]; installs: boolean }
  | { type: "registry"; action: RegistryAction }
  | { type: "done"; reconciled: true }
  | { type: "failed"; code: string; zh: string; en: string };

const personalised = (e: StatusEntry) => lifecycleState(e.lifecycle) === LIFECYCLE.PERSONALIZED;

/** The operations of a card-manager or registry script, given the SE's registry as just read. */
export function plan(aid: string, spec: StoredSpec, registry: readonly StatusEntry[]): Plan {
  const entry = registry.find((e) => e.aid === aid);
  const aidBytes = fromHex(aid);
  switch (spec.kind) {
    case "install": {
      const dgis = spec.dgis ? decodeDgis(spec.dgis) : undefined;
      const commands = installCommands({
        packageId: spec.packageId,
        aid: aidBytes,
        params: spec.params,
        privileges: isHex(spec.privileges) ? fromHex(spec.privileges) : new Uint8Array(0),
        ...(dgis ? { personalization: dgis } : {}),
      });
      if (!entry) return { type: "commands", commands, installs: true };
      if (entry.packageId !== null && entry.packageId !== spec.packageId)
        return {
          type: "failed",
          code: "aid_in_use",
          zh: `安全元件上的 ${aid} 已被其他应用使用`,
          en: `${aid} on the SE belongs to another application`,
        };
      // Already there: a previous session landed it. Whole → done; installed but not personalised → redo.
      if (!dgis || personalised(entry)) return { type: "done", reconciled: true };
      return { type: "commands", commands: [deleteCommand(aidBytes), ...commands], installs: true };
    }
    case "delete":
      return entry
        ? { type: "commands", commands: [deleteCommand(aidBytes)], installs: false }
        : { type: "done", reconciled: true };
    case "personalize":
      return entry
        ? {
            type: "commands",
            commands: personalizationCommands(aidBytes, decodeDgis(spec.dgis)),
            installs: false,
          }
        : {
            type: "failed",
            code: "instance_missing",
            zh: `安全元件上没有应用 ${aid}`,
            en: `no instance ${aid} on the SE`,
          };
    case "registry":
      return { type: "registry", action: spec.action };
    case "relay":
      return { type: "failed", code: "not_a_card_manager_script", zh: "内部错误", en: "internal error" };
  }
}
