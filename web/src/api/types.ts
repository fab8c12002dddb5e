/**
 * The cloud's JSON shapes, written by hand from the route schemas in `src/cloud/<module>/routes.ts` (and
 * visible at `/docs/json`). `test/browser/api-contract.test.ts` checks every endpoint the app calls against
 * the server's OpenAPI document. When a module lands, add its views here and its calls in `endpoints.ts`.
 */

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

export interface BindInput {
  model: string;
  region: string;
  name?: string;
  /** base64 SPKI DER of the phone's ECDSA P-256 public key. */
  publicKey: string;
  /** The secure element's id, hex. */
  seId: string;
}

export interface CheckIn {
  device: DeviceView;
  serverTime: string;
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
