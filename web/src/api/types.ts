/**
 * The cloud's and the simulator's JSON shapes, written by hand from the route schemas in
 * `src/cloud/<module>/routes.ts` and `src/sim/routes.ts` (and visible at `/docs/json`). `test/browser/api-contract.test.ts` checks every endpoint the app calls against
 * the server's OpenAPI document. When a module lands, add its views here and its calls in `endpoints.ts`.
 * The shapes the cloud's own code builds are declared once in `src/protocol/wallet-views.ts` and re-exported.
 */
import type { BankCardTransactionView, DoorInspection } from "../../../src/protocol/wallet-views.js";

export type { DoorInspection };
export type {
  TransitCardView,
  TransitTopUpView as TopUpView,
  TransitWorkflowView as WorkflowView,
} from "../../../src/protocol/wallet-views.js";

/** Every error the cloud returns: a stable code and a message in both languages. */
export interface ApiErrorBody {
  error: string;
  message: { zh: string; en: string };
  details?: Record<string, unknown>;
}

// ── accounts ────────────────────────────────────────────────────────────────────────────────────
export interface CodeSent {
  expiresInSeconds: number;
  resendAfterSeconds: number;
}

export interface AccountView {
  id: string;
  phone: string;
  createdAt: string;
}

export interface SignedIn {
  token: string;
  expiresAt: string;
  account: AccountView;
  created: boolean;
}

// ── devices ─────────────────────────────────────────────────────────────────────────────────────
export interface PhoneModel {
  /** Android device code name (`Build.DEVICE`), e.g. `sagit`. */
  code: string;
  zh: string;
  en: string;
}

export interface ModelsResponse {
  models: PhoneModel[];
  /** ISO 3166-1 alpha-2 codes the service covers (`CN`). */
  regions: string[];
}

export interface DeviceView {
  id: string;
  model: PhoneModel;
  name: string;
  region: string;
  seId: string;
  appVersion: string | null;
  createdAt: string;
  lastSeenAt: string | null;
  lost: boolean;
  lostAt: string | null;
}

// ── notifications ───────────────────────────────────────────────────────────────────────────────
export interface NotificationEvent {
  seq: number;
  /** Dotted name, e.g. `device.lost`. */
  type: string;
  payload: Record<string, unknown>;
  createdAt: string;
}

export interface NotificationPage {
  events: NotificationEvent[];
  cursor: number;
}

/** Text the server words in both languages. */
export interface Bilingual {
  zh: string;
  en: string;
}

// ── bank cards (token service) ──────────────────────────────────────────────────────────────────
export interface BankTerms {
  version: string;
  title: Bilingual;
  summary: Bilingual;
}

export interface BankRef extends Bilingual {
  /** The bank's code, e.g. `ICBC`. */
  code: string;
}

export interface AddBankCardInput {
  deviceId: string;
  cardNumber: string;
  /** MM/YY */
  expiry: string;
  cvn2?: string;
  termsVersion: string;
}

export interface Enrolment {
  id: string;
  deviceId: string;
  bank: BankRef;
  kind: "debit" | "credit";
  fundingLast4: string;
  /** The bank's reserved mobile number, masked. */
  codeSentTo: string;
  expiresInSeconds: number;
  resendAfterSeconds: number;
}

export interface BankCardView {
  id: string;
  deviceId: string;
  bank: BankRef;
  kind: "debit" | "credit";
  tokenLast4: string;
  fundingLast4: string;
  status: "pending" | "active" | "suspended" | "deleted";
  suspendedBy: "user" | "issuer" | "wallet" | null;
  seState: "installing" | "installed" | "failed" | "removing" | "removed";
  default: boolean;
  createdAt: string;
  activatedAt: string | null;
}

export type BankTransaction = BankCardTransactionView;

// ── transit ─────────────────────────────────────────────────────────────────────────────────────
export type TransferPolicy = "standard" | "shenzhen-tong" | "shanghai";

export interface TransitProduct {
  id: string;
  name: Bilingual;
  region: Bilingual;
  standard: string;
  fees: { open: number; openRefundable: boolean };
  topUp: { min: number; max: number };
  maxBalance: number;
  status: "available" | "closed";
  successor?: string;
  advice?: Bilingual;
  transfer: TransferPolicy;
}

export interface TransitTransaction {
  time: string;
  kind: "open" | "load" | "purchase" | "entry";
  /** Fen: positive onto the card, negative for a ride. */
  amount: number;
  operator?: string;
  location?: string;
}

export type FundingChannel = "wechat" | "alipay" | "unionpay";

// ── door cards ──────────────────────────────────────────────────────────────────────────────────
export interface DoorPlacement {
  deviceId: string;
  aid: string;
  state: "installing" | "installed" | "failed" | "lost" | "removing";
  error: { code: string; zh: string; en: string } | null;
  updatedAt: string;
}

export interface DoorCardView {
  id: string;
  name: string;
  uid: string;
  type: "mini" | "1k" | "4k";
  sak: string;
  atqa: string;
  format: string;
  createdAt: string;
  placements: DoorPlacement[];
}

// ── the simulator (/sim/v1) ─────────────────────────────────────────────────────────────────────
export interface SimCard {
  aid: string;
  packageId: string;
  category: "payment" | "transit" | "access" | "other" | null;
  state: "activated" | "deactivated" | "non-activatable";
  defaultPayment: boolean;
  expressTransit: boolean;
  label: Bilingual | null;
  owner: string | null;
  ref: string | null;
}

export interface SimPhone {
  id: string;
  name: string;
  model: PhoneModel & { supported: boolean };
  region: string;
  seId: string;
  deviceId: string | null;
  createdAt: string;
  locked: boolean;
  verification: { at: string; method: "fingerprint" | "passcode" } | null;
  fieldMode: "door" | "iso-dep";
  activeDoorUid: string | null;
  cards: SimCard[];
  lastSync: { at: string; outcome: string; lost: boolean } | null;
}

export interface CreatePhoneInput {
  model: string;
  region: string;
  name?: string;
}

export interface SyncView {
  lost: boolean;
  scripts: {
    kind: string;
    owner: string;
    ref: string;
    state: string;
    error: { code: string; zh: string; en: string } | null;
  }[];
  transit: unknown[];
}

export interface PhoneAndSync {
  phone: SimPhone;
  sync: SyncView;
}

export interface Station {
  code: string;
  name: Bilingual;
  km: number;
}

export interface TerminalCatalogue {
  pos: { terminalId: string; merchantId: string; merchantName: string; currency: string; cvmLimit: number };
  gate: { operator: { id: string; name: Bilingual }; stations: Station[] };
  bus: { line: string; name: Bilingual; fare: number };
  door: { modes: ("uid" | "sector")[]; sectorBlock: number };
}

export type TerminalSpec =
  | { kind: "pos"; amount: number }
  | { kind: "gate"; direction: "entry" | "exit"; station: string }
  | { kind: "bus" }
  | { kind: "door"; mode: "uid" | "sector"; enrol?: boolean };

export interface DecodedField {
  label: Bilingual;
  value: string;
  /** When the value is words rather than data ("6 bytes hidden"): both languages. */
  text?: Bilingual;
}

export interface DecodedTlv {
  tag: string;
  name?: string;
  length: number;
  value?: string;
  text?: string;
  masked?: boolean;
  children?: DecodedTlv[];
}

export interface ApduStep {
  index: number;
  command: { name: Bilingual; hex: string; fields: DecodedField[]; tlv?: DecodedTlv[] };
  response: {
    sw: string | null;
    meaning: Bilingual | null;
    length: number;
    hex?: string;
    fields?: DecodedField[];
    tlv?: DecodedTlv[];
  };
  softwareUs: number;
  airUs: { 106: number; 848: number };
}

export interface FrameStep {
  index: number;
  from: "reader" | "card";
  hex: string;
  bits: number;
  name: Bilingual;
  encrypted: boolean;
  /** An authentication nonce (nT, {nR}{aR}, {aT}): `hex` is `??` per byte, since they give the key away. */
  hidden: boolean;
}

export interface AirFigures {
  bitRate: 106 | 848;
  totalUs: number;
  activationUs: number;
  frames: number;
}

export type Timeline =
  | {
      kind: "apdu";
      activation: { uid: string; atqa: string; sak: string; ats: string | null } | null;
      steps: ApduStep[];
      air: AirFigures[];
    }
  | { kind: "frames"; steps: FrameStep[]; air: AirFigures[] };

export interface TapResult {
  terminal: { kind: TerminalSpec["kind"]; id: string; name: Bilingual };
  ok: boolean;
  code: string;
  message: Bilingual;
  details: Record<string, unknown>;
  timeline: Timeline;
  softwareMs: number;
  onlineMs: number | null;
  clearing: {
    sent: boolean;
    cleared?: number;
    duplicates?: number;
    rejected?: number;
    message: Bilingual;
  } | null;
  at: string;
}

export interface ReaderRead {
  sample: "blank" | "encrypted";
  name: Bilingual;
  fileName: string;
  /** The dump as read, base64. */
  dump: string;
  sectorsRead: number;
  sectors: number;
  inspection: DoorInspection;
  timeline: Timeline;
  softwareMs: number;
}
