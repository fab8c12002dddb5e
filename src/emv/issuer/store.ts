/**
 * The issuer host's storage, injected: an in-memory implementation here, a database one in the cloud. Every
 * authorisation (and every clearing) runs in one `transaction` — the token's ATC window, its velocity
 * counters, the account's funds and the authorisation or clearing record change together or not at all — so a database implementation maps it
 * onto one SQL transaction and concurrent authorisations of one token cannot both pass the ATC check.
 */
import type { Fen } from "../../core/money.js";
import type { AcAlgorithm } from "../cryptogram.js";
import type { SealedPan } from "./vault.js";

export type TokenStatus = "active" | "suspended" | "deleted";

export interface TokenLimits {
  /** Largest single payment, fen. */
  perTransaction: Fen;
  /** Largest total per day (China time), fen. */
  dailyAmount: Fen;
  /** Most payments per day. */
  dailyCount: number;
  /** Above this amount a payment needs a CVM (CDCVM in the CVR, or signature), fen. */
  noCvm: Fen;
}

export interface TokenRecord {
  /** The token (device PAN). */
  token: string;
  psn: string;
  /** YYMMDD */
  expiry: string;
  status: TokenStatus;
  /** The funding PAN, encrypted under the vault key with the token as associated data. */
  fundingPan: SealedPan;
  /** Last four digits of the funding PAN, for people ("•••• 1234"). */
  fundingLast4: string;
  dki: number;
  algorithm: AcAlgorithm;
  deviceId?: string;
  createdAt: string;
  limits: TokenLimits;
  /** Highest ATC seen and the ATCs seen within the replay window. */
  atc: { highest: number; recent: number[] };
  /** Velocity counters of one China-time day (YYYYMMDD). */
  day: { date: string; amount: Fen; count: number };
}

export interface AccountRecord {
  /** Keyed fingerprint of the funding PAN (vault.fingerprint): the PAN itself is never a key. */
  ref: string;
  holder: string;
  fundingLast4: string;
  currency: string;
  /** Available funds (debit) or open-to-buy (credit), fen. */
  available: Fen;
}

export interface AuthorisationRecord {
  /** token:ATC */
  id: string;
  token: string;
  atc: number;
  amount: Fen;
  responseCode: string;
  reason: string;
  authorisationCode?: string;
  at: string;
  terminalId: string;
  stan: number;
}

/** An offline approval the issuer cleared: one per (token, ATC). */
export interface ClearingEntry {
  /** token:ATC */
  id: string;
  /** The issuer's reference of the clearing (clr_…): what postings and the wallet name, not the token. */
  clearingId: string;
  token: string;
  atc: number;
  amount: Fen;
  currency: string;
  /** The TC (9F26), hex: a second upload of the same record is a duplicate, another one is refused. */
  cryptogram: string;
  terminalId: string;
  merchantId: string;
  stan: number;
  /** When the card approved it (terminal clock) and when the issuer cleared it (ISO 8601). */
  capturedAt: string;
  clearedAt: string;
  /** What the funding account lacked (fen, 0 when its funds covered the payment). */
  shortfall: Fen;
  /** The token's status at clearing (an offline approval clears even on a suspended token). */
  tokenStatus: TokenStatus;
}

export interface IssuerTx {
  token(token: string): Promise<TokenRecord | undefined>;
  saveToken(t: TokenRecord): Promise<void>;
  account(ref: string): Promise<AccountRecord | undefined>;
  saveAccount(a: AccountRecord): Promise<void>;
  saveAuthorisation(a: AuthorisationRecord): Promise<void>;
  authorisations(token: string): Promise<AuthorisationRecord[]>;
  clearing(token: string, atc: number): Promise<ClearingEntry | undefined>;
  saveClearing(c: ClearingEntry): Promise<void>;
}

export interface IssuerStore {
  transaction<T>(fn: (tx: IssuerTx) => Promise<T>): Promise<T>;
}

export interface IssuerSnapshot {
  tokens: TokenRecord[];
  accounts: AccountRecord[];
  authorisations: AuthorisationRecord[];
  /** Absent in files written before offline clearing. */
  clearings?: ClearingEntry[];
}

/**
 * In-memory store: transactions run one at a time; writes are buffered and applied only when the function
 * resolves (a throw leaves the state as it was). Values are copied in and out, as a database would.
 */
export class MemoryIssuerStore implements IssuerStore {
  private tokens = new Map<string, TokenRecord>();
  private accounts = new Map<string, AccountRecord>();
  private auths = new Map<string, AuthorisationRecord>();
  private clearings = new Map<string, ClearingEntry>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(snapshot?: IssuerSnapshot) {
    if (snapshot) {
      for (const t of snapshot.tokens) this.tokens.set(t.token, structuredClone(t));
      for (const a of snapshot.accounts) this.accounts.set(a.ref, structuredClone(a));
      for (const a of snapshot.authorisations) this.auths.set(a.id, structuredClone(a));
      for (const c of snapshot.clearings ?? []) this.clearings.set(c.id, structuredClone(c));
    }
  }

  transaction<T>(fn: (tx: IssuerTx) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const tokens = new Map<string, TokenRecord>();
      const accounts = new Map<string, AccountRecord>();
      const auths = new Map<string, AuthorisationRecord>();
      const clearings = new Map<string, ClearingEntry>();
      const tx: IssuerTx = {
        token: async (k) => structuredClone(tokens.get(k) ?? this.tokens.get(k)),
        saveToken: async (t) => void tokens.set(t.token, structuredClone(t)),
        account: async (k) => structuredClone(accounts.get(k) ?? this.accounts.get(k)),
        saveAccount: async (a) => void accounts.set(a.ref, structuredClone(a)),
        saveAuthorisation: async (a) => void auths.set(a.id, structuredClone(a)),
        authorisations: async (token) =>
          [...new Map([...this.auths, ...auths]).values()]
            .filter((a) => a.token === token)
            .map((a) => structuredClone(a)),
        clearing: async (token, atc) =>
          structuredClone(clearings.get(`${token}:${atc}`) ?? this.clearings.get(`${token}:${atc}`)),
        saveClearing: async (c) => void clearings.set(c.id, structuredClone(c)),
      };
      const result = await fn(tx);
      for (const [k, v] of tokens) this.tokens.set(k, v);
      for (const [k, v] of accounts) this.accounts.set(k, v);
      for (const [k, v] of auths) this.auths.set(k, v);
      for (const [k, v] of clearings) this.clearings.set(k, v);
      return result;
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  snapshot(): IssuerSnapshot {
    return structuredClone({
      tokens: [...this.tokens.values()],
      accounts: [...this.accounts.values()],
      authorisations: [...this.auths.values()],
      clearings: [...this.clearings.values()],
    });
  }
}
