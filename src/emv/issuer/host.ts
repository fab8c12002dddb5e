/**
 * The issuer host with its token service (TSP) and token vault: a library the cloud serves over HTTP and the
 * demo runs in-process. It issues tokens for funding cards (the personalisation data for the phone's SE
 * with it), changes their status, and authorises payments:
 *
 * field 55 and track 2 parsed → token found and active → not expired → CVN 01 cryptogram verified with the
 * token's derived keys → ATC neither replayed nor out of the window → CVM → currency → limits (per payment,
 * per day, count per day) → funds (found through the vault: token → funding PAN → account) → approve, with
 * the ARPC (method 1, PBOC session key) in tag 91 for every answer to a genuine cryptogram. It also clears
 * the offline approvals POS terminals upload (`clear`: the TC checked with the same keys, once per token and
 * ATC, honoured beyond the funds).
 *
 * The state changes of one authorisation happen in one store transaction. Errors and answers name the token,
 * never the funding PAN.
 */
import { type Bytes, ascii, fromHex, readBcd, readUintBE, toHex } from "../../core/bytes.js";
import { type Clock, chinaDateDigits } from "../../core/clock.js";
import { TapwalletError } from "../../core/errors.js";
import type { Fen } from "../../core/money.js";
import { parseTlv } from "../../core/tlv.js";
import { generateRsaKeyAsync } from "../../crypto/index.js";
import type { AuthorisationRequest, AuthorisationResponse, Issuer } from "../authorisation.js";
import {
  type ClearingReason,
  type ClearingResult,
  clearingResult,
  parseClearingRecord,
  paymentTimeOf,
} from "../clearing.js";
import { type Dgi, type TokenCardData, buildQpbocPersonalisation } from "../card/personalisation.js";
import {
  type AcAlgorithm,
  acDataOfTags,
  algorithmOfId,
  arpc,
  cardMasterKey,
  cryptogramMatches,
  sessionKey,
} from "../cryptogram.js";
import { CID, type Cvr, cryptogramTypeOfCid, decodeCvr, decodeIad } from "../iad.js";
import type { IssuerPki } from "../pki/issuer-pki.js";
import { CVN_PBOC } from "../profile.js";
import { isLuhnValid, luhnCheckDigit, parseTrack2 } from "../track2.js";
import { type DeclineReason, RC, RESPONSE_CODES, type ResponseCode } from "./response-codes.js";
import type {
  AccountRecord,
  AuthorisationRecord,
  ClearingEntry,
  IssuerStore,
  IssuerTx,
  TokenLimits,
  TokenRecord,
  TokenStatus,
} from "./store.js";
import type { TokenVault } from "./vault.js";

/** The issuer's AC master keys (IMK-AC) by derivation key index — an HSM's job in production. */
export interface IssuerKeys {
  /** The DKI new tokens are issued under. */
  readonly currentDki: number;
  acMasterKey(dki: number, alg: AcAlgorithm): Bytes | undefined;
}

export class StaticIssuerKeys implements IssuerKeys {
  constructor(
    readonly currentDki: number,
    private readonly keys: ReadonlyMap<string, Bytes>,
  ) {}
  static id(dki: number, alg: AcAlgorithm): string {
    return `${alg}/${dki}`;
  }
  acMasterKey(dki: number, alg: AcAlgorithm): Bytes | undefined {
    return this.keys.get(StaticIssuerKeys.id(dki, alg));
  }
}

/** ATCs accepted: not seen before, above highest − behind, at most highest + ahead. */
export interface AtcWindow {
  behind: number;
  ahead: number;
}

export interface IssuerHostOptions {
  store: IssuerStore;
  keys: IssuerKeys;
  vault: TokenVault;
  clock: Clock;
  random(length: number): Bytes;
  /** Token BIN (6–8 digits) tokens are numbered from; the issuer certificate's issuer identifier. */
  tokenBin: string;
  /** For fDDA-capable tokens: the issuer key certified by the CA. */
  pki?: IssuerPki;
  atcWindow?: AtcWindow;
  /** Limits of new tokens (defaults below). */
  defaultLimits?: TokenLimits;
}

const DEFAULT_TOKEN_LIMITS: TokenLimits = {
  perTransaction: 5_000_00,
  dailyAmount: 20_000_00,
  dailyCount: 50,
  noCvm: 1_000_00,
};

const DEFAULT_ATC_WINDOW: AtcWindow = { behind: 32, ahead: 1000 };

/** Field 55 tags the CVN 01 check needs. */
const NEEDED = [0x9f26, 0x9f10, 0x9f37, 0x9f36, 0x95, 0x9a, 0x9c, 0x9f02, 0x5f2a, 0x82, 0x9f1a, 0x9f03];

export interface IssueTokenRequest {
  fundingPan: string;
  kind: "debit" | "credit";
  deviceId?: string;
  algorithm?: AcAlgorithm;
  /** Give the token fDDA (RSA key + certificate) and this offline spending balance (fen). */
  offline?: { balance: Fen; singleLimit?: Fen };
  label?: string;
  limits?: Partial<TokenLimits>;
  cdcvmWindowSeconds?: number;
}

export interface IssuedToken {
  token: string;
  psn: string;
  expiry: string;
  kind: "debit" | "credit";
  fundingLast4: string;
  /** STORE DATA content for the phone's QpbocApplet. Holds keys: only for the TSM's secure channel. */
  personalisation: Dgi[];
}

export class IssuerHost implements Issuer {
  private readonly window: AtcWindow;
  private readonly limits: TokenLimits;

  constructor(private readonly o: IssuerHostOptions) {
    if (!/^\d{6,8}$/.test(o.tokenBin)) throw new RangeError("token BIN must be 6–8 digits");
    this.window = o.atcWindow ?? DEFAULT_ATC_WINDOW;
    this.limits = o.defaultLimits ?? DEFAULT_TOKEN_LIMITS;
  }

  // ---- accounts and tokens ----------------------------------------------------------------------------

  /** Opens (or tops up) the account of a funding card. */
  async openAccount(a: {
    fundingPan: string;
    holder: string;
    available: Fen;
    currency?: string;
  }): Promise<string> {
    if (!isLuhnValid(a.fundingPan)) throw invalidPan();
    const ref = this.o.vault.fingerprint(a.fundingPan);
    await this.o.store.transaction(async (tx) => {
      await tx.saveAccount({
        ref,
        holder: a.holder,
        fundingLast4: a.fundingPan.slice(-4),
        currency: a.currency ?? "0156",
        available: a.available,
      });
    });
    return ref;
  }

  async account(fundingPan: string): Promise<AccountRecord | undefined> {
    const ref = this.o.vault.fingerprint(fundingPan);
    return this.o.store.transaction((tx) => tx.account(ref));
  }

  /** Issues a token for a funding card and builds its personalisation data (TSP: token + keys). */
  async issueToken(r: IssueTokenRequest): Promise<IssuedToken> {
    if (!isLuhnValid(r.fundingPan)) throw invalidPan();
    const ref = this.o.vault.fingerprint(r.fundingPan);
    const alg = r.algorithm ?? "3des";
    const dki = this.o.keys.currentDki;
    const imk = this.o.keys.acMasterKey(dki, alg);
    if (!imk)
      throw new TapwalletError("issuer_key_missing", "发卡行主密钥缺失", "the issuer master key is missing");
    if (r.offline && !this.o.pki)
      throw new TapwalletError(
        "issuer_pki_missing",
        "发卡行未配置脱机认证证书",
        "the issuer has no fDDA certificate",
      );
    const now = this.o.clock.now();
    const { date } = chinaDateDigits(now);
    const expiry = `${String(Number(date.slice(2, 4)) + 3).padStart(2, "0")}${date.slice(4, 6)}${lastDay(date)}`;
    const psn = "00";
    // The card's RSA key for fDDA, made off the event loop (a server issues tokens while it authorises).
    const iccKey = r.offline ? await generateRsaKeyAsync(1024, 3) : undefined;

    return this.o.store.transaction(async (tx) => {
      if (!(await tx.account(ref))) {
        throw new TapwalletError("no_account", "该卡没有可用账户", "no account for this funding card");
      }
      const token = await this.newTokenNumber(tx);
      const card: TokenCardData = {
        pan: token,
        psn,
        expiry,
        effective: date.slice(2),
        kind: r.kind,
        algorithm: alg,
        dki,
      };
      if (r.label !== undefined) card.label = r.label;
      if (r.cdcvmWindowSeconds !== undefined) card.cdcvmWindowSeconds = r.cdcvmWindowSeconds;
      if (r.offline) {
        card.offlineBalance = r.offline.balance;
        if (r.offline.singleLimit !== undefined) card.offlineSingleLimit = r.offline.singleLimit;
      }
      const udk = cardMasterKey(imk, token, psn, alg);
      const pki = this.o.pki;
      const personalisation = buildQpbocPersonalisation(
        card,
        udk,
        iccKey && pki ? { ...pki, iccKey, certificateSerial: this.o.random(3) } : undefined,
      );
      udk.fill(0);
      const record: TokenRecord = {
        token,
        psn,
        expiry,
        status: "active",
        fundingPan: this.o.vault.seal(r.fundingPan, token),
        fundingLast4: r.fundingPan.slice(-4),
        dki,
        algorithm: alg,
        createdAt: now.toISOString(),
        limits: { ...this.limits, ...r.limits },
        atc: { highest: 0, recent: [] },
        day: { date, amount: 0, count: 0 },
      };
      if (r.deviceId !== undefined) record.deviceId = r.deviceId;
      await tx.saveToken(record);
      return { token, psn, expiry, kind: r.kind, fundingLast4: record.fundingLast4, personalisation };
    });
  }

  private async newTokenNumber(tx: IssuerTx): Promise<string> {
    for (;;) {
      const body = this.o.tokenBin + digits(this.o.random(15 - this.o.tokenBin.length));
      const token = body + luhnCheckDigit(body);
      if (!(await tx.token(token))) return token;
    }
  }

  /** Token lifecycle: active ⇄ suspended; any → deleted, which is final. */
  async setTokenStatus(token: string, status: TokenStatus): Promise<void> {
    await this.o.store.transaction(async (tx) => {
      const t = await tx.token(token);
      if (!t) throw new TapwalletError("unknown_token", "令牌不存在", "no such token", { token });
      if (t.status === "deleted" && status !== "deleted")
        throw new TapwalletError(
          "token_deleted",
          "令牌已删除，不能恢复",
          "a deleted token cannot come back",
          { token },
        );
      t.status = status;
      await tx.saveToken(t);
    });
  }

  async token(token: string): Promise<TokenRecord | undefined> {
    return this.o.store.transaction((tx) => tx.token(token));
  }

  /** A token's authorisations, oldest first (what the wallet shows as its transactions). */
  async history(token: string): Promise<AuthorisationRecord[]> {
    const list = await this.o.store.transaction((tx) => tx.authorisations(token));
    return list.sort((a, b) => a.at.localeCompare(b.at) || a.atc - b.atc);
  }

  // ---- authorisation ------------------------------------------------------------------------------------

  async authorise(req: AuthorisationRequest): Promise<AuthorisationResponse> {
    const parsed = parseRequest(req);
    if (!parsed) return answer(RC.formatError, "malformed-request");
    const { token, f55, amount } = parsed;
    if (amount !== req.amount) return answer(RC.invalidAmount, "amount-mismatch");

    return this.o.store.transaction(async (tx) => {
      const t = await tx.token(token);
      if (!t) return answer(RC.invalidCard, "unknown-token");
      if (t.status === "deleted") return answer(RC.invalidCard, "token-deleted");
      if (t.status === "suspended") return answer(RC.restrictedCard, "token-suspended");
      const now = this.o.clock.now();
      const today = chinaDateDigits(now).date;
      if (t.expiry < today.slice(2) || parsed.expiry < today.slice(2, 6))
        return answer(RC.expiredCard, "token-expired");

      // The cryptogram, with the keys the token was issued under.
      const checked = this.checkCryptogram(t, f55);
      if (!checked.ok) return answer(checked.rc, checked.reason);
      const { sk, ac, atc, cvr } = checked;
      // From here on the card is genuine: every answer carries an ARPC, and the ATC is used up.
      const reply = (rc: ResponseCode, reason: DeclineReason, authorisationCode?: string) => {
        const arc = ascii(rc);
        const resp = answer(
          rc,
          reason,
          toHex(arpc(sk, ac, arc, t.algorithm)) + toHex(arc),
          authorisationCode,
        );
        sk.fill(0);
        return resp;
      };
      const record = async (rc: ResponseCode, reason: DeclineReason, authorisationCode?: string) => {
        const a = {
          id: `${t.token}:${atc}`,
          token: t.token,
          atc,
          amount,
          responseCode: rc,
          reason,
          at: now.toISOString(),
          terminalId: req.terminalId,
          stan: req.stan,
          ...(authorisationCode ? { authorisationCode } : {}),
        };
        await tx.saveAuthorisation(a);
        return reply(rc, reason, authorisationCode);
      };

      const cid = f55.get(0x9f27);
      const type = cid ? cryptogramTypeOfCid(cid[0]!) : cvr.type;
      if (type !== cvr.type || type === "AAC" || type === null) return reply(RC.doNotHonour, "card-declined");

      if (t.atc.recent.includes(atc)) return reply(RC.duplicate, "atc-replay");
      if (t.atc.highest > 0 && atc <= t.atc.highest - this.window.behind)
        return reply(RC.duplicate, "atc-too-old");
      if (atc > t.atc.highest + this.window.ahead) return reply(RC.doNotHonour, "atc-jump");
      this.useAtc(t, atc);
      if (t.day.date !== today) t.day = { date: today, amount: 0, count: 0 };
      await tx.saveToken(t);

      if (req.cvm === "online-pin") return record(RC.pinRequired, "pin-not-supported");
      if (amount > t.limits.noCvm && !cvr.cdcvm && req.cvm !== "signature")
        return record(RC.notPermitted, "cvm-required");
      const fundingPan = this.o.vault.open(t.fundingPan, t.token);
      if (!fundingPan.ok) return record(RC.systemError, "no-account");
      const account = await tx.account(this.o.vault.fingerprint(fundingPan.value));
      if (!account) return record(RC.systemError, "no-account");
      if (toHex(f55.get(0x5f2a)!) !== account.currency) return record(RC.notPermitted, "currency");
      if (amount > t.limits.perTransaction) return record(RC.exceedsAmountLimit, "per-transaction-limit");
      if (t.day.amount + amount > t.limits.dailyAmount)
        return record(RC.exceedsAmountLimit, "daily-amount-limit");
      if (t.day.count + 1 > t.limits.dailyCount) return record(RC.exceedsFrequencyLimit, "daily-count-limit");
      if (account.available < amount) return record(RC.insufficientFunds, "insufficient-funds");

      account.available -= amount;
      await tx.saveAccount(account);
      t.day = { date: today, amount: t.day.amount + amount, count: t.day.count + 1 };
      await tx.saveToken(t);
      return record(RC.approved, "approved", digits(this.o.random(6)));
    });
  }
  /**
   * The CVN 01 cryptogram of field 55 (an ARQC or a TC: the same data list, the same keys) with the keys the
   * token was issued under: UDK = option A(IMK, token, PSN), the PBOC session key of the ATC. On success the
   * session key is the caller's to use and wipe.
   */
  private checkCryptogram(
    t: TokenRecord,
    f55: ReadonlyMap<number, Bytes>,
  ):
    | { ok: true; sk: Bytes; ac: Bytes; atc: number; cvr: Cvr }
    | { ok: false; rc: ResponseCode; reason: DeclineReason } {
    const iad = decodeIad(f55.get(0x9f10)!);
    if (!iad.ok || iad.value.cvn !== CVN_PBOC || iad.value.dki !== t.dki)
      return { ok: false, rc: RC.doNotHonour, reason: "cryptogram-profile" };
    if (algorithmOfId(iad.value.algorithmId) !== t.algorithm)
      return { ok: false, rc: RC.doNotHonour, reason: "cryptogram-profile" };
    const cvr = decodeCvr(iad.value.cvr);
    if (!cvr.ok) return { ok: false, rc: RC.doNotHonour, reason: "cryptogram-profile" };
    const imk = this.o.keys.acMasterKey(t.dki, t.algorithm);
    if (!imk) return { ok: false, rc: RC.systemError, reason: "key-missing" };
    const atc = readUintBE(f55.get(0x9f36)!);
    const data = acDataOfTags(f55, iad.value.cvr);
    if (data === null) return { ok: false, rc: RC.formatError, reason: "malformed-request" };
    const udk = cardMasterKey(imk, t.token, t.psn, t.algorithm);
    const sk = sessionKey(udk, atc, t.algorithm);
    udk.fill(0);
    const ac = f55.get(0x9f26)!;
    if (!cryptogramMatches(sk, data, ac, t.algorithm)) {
      sk.fill(0);
      return { ok: false, rc: RC.doNotHonour, reason: "cryptogram-invalid" };
    }
    return { ok: true, sk, ac, atc, cvr: cvr.value };
  }

  /** Marks an ATC used: the highest moves up, the window keeps the recent ones (older ones fall out). */
  private useAtc(t: TokenRecord, atc: number): void {
    const highest = Math.max(t.atc.highest, atc);
    t.atc = {
      highest,
      recent: [...new Set([...t.atc.recent, atc])]
        .filter((x) => x > highest - this.window.behind)
        .sort((a, b) => a - b),
    };
  }

  // ---- offline clearing ---------------------------------------------------------------------------------

  /**
   * Clears one offline approval a POS uploaded (src/emv/clearing.ts): the record parsed (untrusted) → the
   * token known and not deleted → the TC verified exactly as an ARQC is (same keys, same data list), 9F27 and
   * the CVR saying TC → cleared once per (token, ATC): the same record again is a duplicate that moves
   * nothing; another cryptogram under a cleared ATC, or an ATC an online authorisation used, is refused →
   * the funding account debited. The card approved offline on the issuer's behalf, so the payment is
   * honoured even on a suspended token or beyond the funds: the account goes negative and the shortfall is
   * recorded and answered. The ATC joins the online window (an online replay of it is refused) without
   * the window's "too old" or "jump" rules: records arrive late and in any order.
   */
  async clear(input: unknown): Promise<ClearingResult> {
    const parsed = parseClearingRecord(input);
    if (!parsed.ok)
      return clearingResult("refused", parsed.reason, parsed.atc !== undefined ? { atc: parsed.atc } : {});
    const { record, token, atc, amount, f55 } = parsed.value;
    const named = { tokenLast4: token.slice(-4), atc };
    const refused = (reason: ClearingReason) => clearingResult("refused", reason, named);

    return this.o.store.transaction(async (tx) => {
      const t = await tx.token(token);
      if (!t) return refused("unknown-token");
      if (t.status === "deleted") return refused("token-deleted");
      const checked = this.checkCryptogram(t, f55);
      if (!checked.ok)
        return refused(
          checked.reason === "malformed-request" ? "malformed-record" : (checked.reason as ClearingReason),
        );
      checked.sk.fill(0);
      if (parsed.value.cid !== CID.TC || checked.cvr.type !== "TC") return refused("not-offline-approved");

      const prior = await tx.clearing(token, atc);
      if (prior) {
        if (prior.cryptogram !== toHex(checked.ac)) return refused("atc-already-cleared");
        return clearingResult("duplicate", "already-cleared", {
          ...named,
          amount: prior.amount,
          clearingId: prior.clearingId,
          paidAt: paymentTimeOf(parsed.value).at,
          clearedAt: prior.clearedAt,
        });
      }
      if (t.atc.recent.includes(atc) || (await tx.authorisations(token)).some((a) => a.atc === atc))
        return refused("atc-used-online");

      const fundingPan = this.o.vault.open(t.fundingPan, t.token);
      const account = fundingPan.ok
        ? await tx.account(this.o.vault.fingerprint(fundingPan.value))
        : undefined;
      if (!account) return refused("no-account");
      const shortfall = Math.min(amount, Math.max(0, amount - account.available));
      account.available -= amount;
      await tx.saveAccount(account);
      this.useAtc(t, atc);
      await tx.saveToken(t);
      const entry: ClearingEntry = {
        id: `${token}:${atc}`,
        clearingId: `clr_${toHex(this.o.random(12)).toLowerCase()}`,
        token,
        atc,
        amount,
        currency: record.currency,
        cryptogram: toHex(checked.ac),
        terminalId: record.terminalId,
        merchantId: record.merchantId,
        stan: record.stan,
        capturedAt: new Date(record.capturedAt).toISOString(),
        clearedAt: this.o.clock.now().toISOString(),
        shortfall,
        tokenStatus: t.status,
      };
      await tx.saveClearing(entry);
      return clearingResult("cleared", "cleared", {
        ...named,
        amount,
        shortfall,
        clearingId: entry.clearingId,
        paidAt: paymentTimeOf(parsed.value).at,
        clearedAt: entry.clearedAt,
      });
    });
  }

  /** A token's cleared offline approvals. */
  async clearing(token: string, atc: number): Promise<ClearingEntry | undefined> {
    return this.o.store.transaction((tx) => tx.clearing(token, atc));
  }
}

interface ParsedRequest {
  token: string;
  expiry: string;
  amount: Fen;
  f55: Map<number, Bytes>;
}

/** Untrusted input: any shape or encoding problem gives null (answered with 30, format error). */
function parseRequest(req: AuthorisationRequest): ParsedRequest | null {
  if (typeof req !== "object" || req === null) return null;
  if (typeof req.track2 !== "string" || typeof req.field55 !== "string" || !Number.isSafeInteger(req.amount))
    return null;
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(req.track2) || !/^(?:[0-9A-Fa-f]{2})+$/.test(req.field55)) return null;
  if (req.amount < 0 || typeof req.currency !== "string" || !/^\d{2}$/.test(req.panSequenceNumber ?? ""))
    return null;
  const track2 = parseTrack2(fromHex(req.track2));
  if (!track2.ok) return null;
  const tlvs = parseTlv(fromHex(req.field55), { recurse: false });
  if (!tlvs.ok) return null;
  const f55 = new Map<number, Bytes>();
  for (const t of tlvs.value) {
    if (f55.has(t.tag)) return null;
    f55.set(t.tag, t.value);
  }
  if (NEEDED.some((tag) => !f55.has(tag))) return null;
  const amountDigits = readBcd(f55.get(0x9f02)!);
  if (amountDigits === null || f55.get(0x9f36)!.length !== 2 || f55.get(0x9f26)!.length !== 8) return null;
  if (toHex(f55.get(0x5f2a)!) !== req.currency.padStart(4, "0")) return null;
  return { token: track2.value.pan, expiry: track2.value.expiry, amount: Number(amountDigits), f55 };
}

function answer(
  rc: ResponseCode,
  reason: DeclineReason,
  issuerAuthenticationData?: string,
  authorisationCode?: string,
) {
  const r: AuthorisationResponse = {
    responseCode: rc,
    approved: rc === RC.approved,
    reason,
    message: RESPONSE_CODES[rc],
  };
  if (issuerAuthenticationData) r.issuerAuthenticationData = issuerAuthenticationData;
  if (authorisationCode) r.authorisationCode = authorisationCode;
  return r;
}

/** Decimal digits, one per random byte (mod 10: the small bias does not matter for numbering). */
function digits(random: Bytes): string {
  return [...random].map((b) => String(b % 10)).join("");
}

function lastDay(yyyymmdd: string): string {
  const y = Number(yyyymmdd.slice(0, 4)) + 3;
  const m = Number(yyyymmdd.slice(4, 6));
  return String(new Date(Date.UTC(y, m, 0)).getUTCDate()).padStart(2, "0");
}

function invalidPan(): TapwalletError {
  return new TapwalletError("invalid_pan", "卡号无效", "the card number is not valid");
}
