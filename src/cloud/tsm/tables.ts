/**
 * The TSM's tables: the secure elements it manages (with their sealed keys), its view of each SE's
 * instances, the scripts queued for each SE, and the provisioning sessions in flight. Times are epoch ms;
 * AIDs are upper-case hex; secrets are sealed (sealed-box.ts) and never stored in the clear.
 */
export interface TsmSecureElementsTable {
  /** The SE serial (8 bytes, hex): what the phone reports as its SE id and the SE sends in INITIALIZE UPDATE. */
  se_id: string;
  key_version: number;
  /** Sealed ENC ‖ MAC ‖ DEK (AAD `tsm.se-keys:<se_id>`). */
  keys_sealed: string;
  /** Next script number on this SE (scripts run in this order). */
  next_seq: number;
  enrolled_at: number;
  /** Last time a session read the SE's registry (GET STATUS under the secure channel). */
  last_status_at: number | null;
  /** The phone's own report of its contactless registry (untrusted, for display), JSON. */
  registry_report: string | null;
  registry_reported_at: number | null;
}

export type InstanceState = "present" | "lost" | "unknown";

export interface TsmInstancesTable {
  se_id: string;
  aid: string;
  /**
   * The binding (device) the instance was installed for, or found on (unknown). When the SE is bound again,
   * an instance of an earlier binding is an orphan: the first sync deletes it (service.ts `reconcile`).
   * Null only for an instance whose installer the migration could not find: left alone.
   */
  device_id: string | null;
  /** Package (executable load file) id; null for an unknown instance whose answer named none. */
  package_id: string | null;
  /** GP life cycle byte last seen or set (07 selectable, 0F personalised, bit 8 locked). */
  lifecycle: number | null;
  /** present: installed by us and seen; lost: we installed it but the SE no longer has it; unknown: on the SE, not ours. */
  state: InstanceState;
  /** The card service that owns the instance (`access`, `transit`, `tsp`…) and its reference. */
  owner: string | null;
  ref: string | null;
  /** Display name for the phone: JSON `{zh, en}` or null. */
  label: string | null;
  created_at: number;
  updated_at: number;
}

export type ScriptKind = "install" | "delete" | "personalize" | "registry" | "relay";
export type ScriptState = "pending" | "sent" | "done" | "failed" | "cancelled";

export interface TsmScriptsTable {
  id: string;
  se_id: string;
  device_id: string;
  account_id: string;
  /** Order on its SE. */
  seq: number;
  kind: ScriptKind;
  aid: string;
  owner: string;
  ref: string;
  /** Sealed JSON of what to do (DGIs, relay state…), AAD `tsm.script:<id>`. */
  spec_sealed: string;
  state: ScriptState;
  /** The session that carries it while `sent`. */
  session_id: string | null;
  /** Sessions that carried it and broke off (secure channel refused, no answer). */
  attempts: number;
  /** JSON `{code, zh, en, step?, sw?}` when failed or last broken off. */
  error: string | null;
  /** JSON result of a relay conversation. */
  result: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export type SessionPhase = "opening" | "status" | "operations" | "relay" | "closed";

export interface TsmSessionsTable {
  id: string;
  se_id: string;
  device_id: string;
  phase: SessionPhase;
  /** Step number the device must answer next (1, 2, 3…). */
  step: number;
  host_challenge: string;
  /** The SE's INITIALIZE UPDATE answer (public: challenge, cryptogram, counter). */
  iu_answer: string | null;
  /**
   * Sealed JSON (AAD `tsm.session:<id>`): the plain commands sent in the secure channel so far (the MAC
   * chain is rebuilt from them), the registry read so far, the operations of the step in flight and the
   * scripts already tried in this session.
   */
  state_sealed: string;
  created_at: number;
  expires_at: number;
  /** Why it ended: done, superseded, expired, error code. */
  outcome: string | null;
  closed_at: number | null;
}

export interface TsmTables {
  tsm_secure_elements: TsmSecureElementsTable;
  tsm_instances: TsmInstancesTable;
  tsm_scripts: TsmScriptsTable;
  tsm_sessions: TsmSessionsTable;
}
