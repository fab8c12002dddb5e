/**
 * The issuer host served by the cloud: src/emv's `IssuerHost` over the database (`DbIssuerStore`), the
 * funding accounts it keeps, and the authorisations POS terminals send it.
 *
 * An authorisation, in one database transaction:
 *   1. claim its request key (`<api key>:<Idempotency-Key>`, or `<api key>:<terminal>:<STAN>:<9A date>`):
 *      if the key was answered before, give the same answer again (nothing moves); a different request
 *      under the same key is refused (`idempotency_conflict`); a racing twin waits on the key's row and
 *      then replays the winner's answer;
 *   2. the host decides: token → vault → funding account, cryptogram, ATC window, CVM, limits, funds;
 *   3. an approval posts to the ledger (debit `issuer:<bank>`, credit `merchant:<merchant id>`, keyed by
 *      the request key, so even a replay that slipped past step 1 would not post twice);
 *   4. the answer is stored under the key, and the `onAuthorisation` hooks run (the token service records
 *      the transaction for the card's owner and notifies the phone).
 * A reversal (`reverse`) undoes an approval the same way: funds, day counters, a reversing posting, once.
 * All of it commits or none of it does. Answers and errors name the token's last four digits at most.
 */
import { createHash } from "node:crypto";
import type { Transaction } from "kysely";
import { fromHex } from "../../core/bytes.js";
import { chinaDateDigits } from "../../core/clock.js";
import { parseTlv } from "../../core/tlv.js";
import type { AuthorisationRequest, AuthorisationResponse } from "../../emv/authorisation.js";
import { type ClearingResult, parseClearingRecord } from "../../emv/clearing.js";
import { type IssuedToken, IssuerHost, StaticIssuerKeys } from "../../emv/issuer/host.js";
import type { TokenStatus } from "../../emv/issuer/store.js";
import type { TokenVault } from "../../emv/issuer/vault.js";
import { demoIssuerPki } from "../../emv/pki/issuer-pki.js";
import { parseTrack2 } from "../../emv/track2.js";
import type { CloudContext } from "../context.js";
import type { Database } from "../db/schema.js";
import { forUpdate, transaction, type Executor } from "../db/tx.js";
import { CloudError } from "../errors.js";
import { type LedgerAccountKind, ledgerAccountIds } from "../ledger/accounts.js";
import type { Ledger, PostingRequest, PostingResult } from "../ledger/service.js";
import type { CardKind } from "../tsp/bins.js";
import { type ApiKeyPrincipal, IssuerApiKeys } from "./api-keys.js";
import { DEV_ACQUIRER_KEY, type IssuerOptions } from "./config.js";
import { cvn2Matches } from "./cvn2.js";
import { DbIssuerStore } from "./store.js";
import type { IssuerRequestsTable } from "./tables.js";
import type { TestCard } from "./test-cards.js";

export interface AuthorisationEvent {
  /**
   * An authorisation decided, the reversal of an approved one (the request is then the original's), or an
   * offline approval cleared (the request is made from the clearing record; the response approves).
   */
  kind: "authorisation" | "reversal" | "clearing";
  /** The token track 2 named (it may be unknown to us). */
  token: string;
  request: AuthorisationRequest;
  response: AuthorisationResponse;
  requestKey: string;
  /** The ledger posting of an approval. */
  postingId: string | null;
  /**
   * Of a clearing: when the payment was made (the record's 9A date, with the POS's time when it carries
   * one that falls on it: `paymentTimeOf`) and when it was cleared, ISO 8601. Other events happen now.
   */
  paidAt?: string;
  clearedAt?: string;
}

/** Runs inside the authorisation's transaction. */
export type AuthorisationHook = (trx: Transaction<Database>, e: AuthorisationEvent) => Promise<void>;

export interface AuthorisationOutcome {
  response: AuthorisationResponse;
  /** True when this request key had been answered before: the same answer, nothing moved. */
  replayed: boolean;
}

export interface FundingAccountView {
  ref: string;
  bankCode: string;
  kind: CardKind;
  fundingLast4: string;
  expiry: string;
  reservedPhone: string;
  available: number;
  status: "open" | "closed";
}

/** What the bank says of card details a user typed. */
export type CardCheck =
  { ok: true; account: FundingAccountView } | { ok: false; reason: "unknown" | "closed" | "mismatch" };

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,64}$/;

export class IssuerService {
  readonly apiKeys: IssuerApiKeys;
  private readonly keys: StaticIssuerKeys;
  private readonly hooks: AuthorisationHook[] = [];
  /**
   * Ledger accounts known to exist (they are never deleted): a cache that saves two statements per account
   * and authorisation, not state — a miss just opens the account again (idempotently).
   */
  private readonly openLedgerAccounts = new Set<string>();

  constructor(
    private readonly ctx: CloudContext,
    private readonly ledger: Ledger,
    readonly vault: TokenVault,
    readonly options: IssuerOptions,
  ) {
    this.apiKeys = new IssuerApiKeys(ctx);
    this.keys = new StaticIssuerKeys(
      options.dki,
      new Map([
        [StaticIssuerKeys.id(options.dki, "3des"), options.imk3des],
        [StaticIssuerKeys.id(options.dki, "sm4"), options.imkSm4],
      ]),
    );
  }

  /** Registers work to do with every authorisation decided (in its transaction). */
  onAuthorisation(hook: AuthorisationHook): void {
    this.hooks.push(hook);
  }

  /** The host over `exec` (the database, or a transaction its store joins). */
  host(exec: Executor = this.ctx.db.db): IssuerHost {
    return new IssuerHost({
      store: new DbIssuerStore(exec, this.ctx.db.dialect),
      keys: this.keys,
      vault: this.vault,
      clock: this.ctx.clock,
      random: (n) => this.ctx.rng.bytes(n),
      tokenBin: this.options.tokenBin,
      ...(this.options.offline ? { pki: demoIssuerPki(this.options.tokenBin) } : {}),
    });
  }

  /** Opens the configured test cards and the development acquirer key (idempotent; every instance may). */
  async start(): Promise<void> {
    for (const c of this.options.testCards) await this.openFundingAccount(c);
    if (this.options.devAcquirerKey) {
      await this.apiKeys.create({
        role: "acquirer",
        name: "DEVELOPMENT ONLY 开发用收单",
        key: DEV_ACQUIRER_KEY,
      });
      this.ctx.log.warn(
        { devOnly: true },
        "[DEV ONLY 仅开发环境] 开发用收单密钥已启用 / the development acquirer key is enabled (see docs/CLOUD.md)",
      );
    }
  }

  /** Opens a funding account for a card (idempotent: an existing account keeps its balance). */
  async openFundingAccount(c: TestCard, exec: Executor = this.ctx.db.db): Promise<string> {
    const ref = this.vault.fingerprint(c.pan);
    await exec
      .insertInto("issuer_funding_accounts")
      .values({
        ref,
        bank_code: c.bank,
        kind: c.kind,
        holder: c.holder,
        funding_last4: c.pan.slice(-4),
        expiry: c.expiry,
        reserved_phone: c.reservedPhone,
        currency: "0156",
        available: c.available,
        status: "open",
        created_at: this.ctx.clock.now().getTime(),
      })
      .onConflict((oc) => oc.column("ref").doNothing())
      .execute();
    return ref;
  }

  async fundingAccount(
    ref: string,
    exec: Executor = this.ctx.db.db,
  ): Promise<FundingAccountView | undefined> {
    const r = await exec
      .selectFrom("issuer_funding_accounts")
      .selectAll()
      .where("ref", "=", ref)
      .executeTakeFirst();
    return (
      r && {
        ref: r.ref,
        bankCode: r.bank_code,
        kind: r.kind,
        fundingLast4: r.funding_last4,
        expiry: r.expiry,
        reservedPhone: r.reserved_phone,
        available: r.available,
        status: r.status,
      }
    );
  }

  /**
   * The bank's check of what a user typed: the card exists and is open, the expiry is the card's, and for a
   * credit card the CVN2 is the one computed under the CVK. One answer ("mismatch") for every wrong detail,
   * as banks give, so details cannot be guessed one at a time.
   */
  async checkCard(pan: string, expiryYymm: string, cvn2: string | undefined): Promise<CardCheck> {
    const account = await this.fundingAccount(this.vault.fingerprint(pan));
    if (!account) return { ok: false, reason: "unknown" };
    if (account.status !== "open") return { ok: false, reason: "closed" };
    if (account.expiry !== expiryYymm) return { ok: false, reason: "mismatch" };
    if (
      account.kind === "credit" &&
      !(cvn2 !== undefined && cvn2Matches(this.options.cvk, pan, expiryYymm, cvn2))
    )
      return { ok: false, reason: "mismatch" };
    return { ok: true, account };
  }

  /**
   * Issues a token for a funding card in the caller's transaction: number, keys, personalisation DGIs. The
   * token starts suspended (EMVCo "inactive") and becomes active once it is on the phone (`setTokenStatus`).
   */
  async issueToken(
    trx: Transaction<Database>,
    r: { fundingPan: string; kind: CardKind; deviceId: string; label: string; par: string },
  ): Promise<IssuedToken> {
    const issued = await this.host(trx).issueToken({
      fundingPan: r.fundingPan,
      kind: r.kind,
      deviceId: r.deviceId,
      label: r.label,
      ...(this.options.offline ? { offline: this.options.offline } : {}),
    });
    await trx
      .updateTable("issuer_tokens")
      .set({ funding_ref: this.vault.fingerprint(r.fundingPan), par: r.par, status: "suspended" })
      .where("token", "=", issued.token)
      .execute();
    return issued;
  }

  async setTokenStatus(trx: Transaction<Database>, token: string, status: TokenStatus): Promise<void> {
    await this.host(trx).setTokenStatus(token, status);
  }

  async tokenStatus(token: string, exec: Executor = this.ctx.db.db): Promise<TokenStatus | undefined> {
    const r = await exec
      .selectFrom("issuer_tokens")
      .select("status")
      .where("token", "=", token)
      .executeTakeFirst();
    return r?.status;
  }

  /** Decides one authorisation from an acquirer (see the file comment). */
  async authorise(
    caller: ApiKeyPrincipal,
    req: AuthorisationRequest,
    idempotencyKey?: string,
  ): Promise<AuthorisationOutcome> {
    const key =
      idempotencyKey !== undefined
        ? explicitKey(caller, idempotencyKey)
        : terminalKey(caller, req.terminalId, req.stan, transactionDate(req, this.ctx.clock.now()));
    const hash = requestHash(req);
    const token = tokenOf(req);

    return transaction(this.ctx.db.db, async (trx) => {
      const now = this.ctx.clock.now().getTime();
      // Claim the key first: a racing twin blocks here until we commit, then replays our answer.
      const prior = await this.claim(trx, {
        request_key: key,
        request_hash: hash,
        response: "",
        posting_id: null,
        token_last4: token?.slice(-4) ?? null,
        token,
        amount: Number.isSafeInteger(req.amount) ? req.amount : null,
        created_at: now,
      });
      if (prior) {
        if (prior.request_hash !== hash) {
          throw new CloudError(
            "conflict",
            "idempotency_conflict",
            "该请求标识已用于另一笔不同的授权",
            "This request key was already used for a different authorisation",
          );
        }
        return { response: JSON.parse(prior.response) as AuthorisationResponse, replayed: true };
      }

      const response = await this.host(trx).authorise(req);
      let postingId: string | null = null;
      if (response.approved && token) postingId = await this.post(trx, key, token, req, response);
      await trx
        .updateTable("issuer_requests")
        .set({ response: JSON.stringify(response), posting_id: postingId })
        .where("request_key", "=", key)
        .execute();
      if (token) {
        const event: AuthorisationEvent = {
          kind: "authorisation",
          token,
          request: req,
          response,
          requestKey: key,
          postingId,
        };
        for (const hook of this.hooks) await hook(trx, event);
      }
      return { response, replayed: false };
    });
  }

  /**
   * Reverses an approved authorisation the terminal could not complete (ISO 8583 0400: the answer never
   * reached it, or the sale was voided at once). The original is named as it was keyed: by its
   * `Idempotency-Key`, or by terminal id, STAN and transaction date. In one transaction the funds and the
   * token's day counters are given back, the ledger posting is reversed (keyed, so once), the owner's card
   * shows the reversal and the phone is told. A reversal is answered once and replayed after; reversing a
   * declined authorisation changes nothing.
   */
  async reverse(
    caller: ApiKeyPrincipal,
    original: { terminalId: string; stan: number; transactionDate?: string; idempotencyKey?: string },
  ): Promise<{ reversed: boolean; reason: string; replayed: boolean }> {
    let key: string;
    if (original.idempotencyKey !== undefined) {
      key = explicitKey(caller, original.idempotencyKey);
    } else {
      if (original.transactionDate === undefined || !/^\d{6}$/.test(original.transactionDate))
        throw new CloudError(
          "invalid",
          "transaction_date_required",
          "冲正须给出原交易日期（YYMMDD）或幂等键",
          "A reversal names the original's transaction date (YYMMDD) or its idempotency key",
        );
      key = terminalKey(caller, original.terminalId, original.stan, original.transactionDate);
    }
    const reversalKey = `${key}:reversal`;
    type Outcome = { reversed: boolean; reason: string; replayed: boolean };
    return transaction(this.ctx.db.db, async (trx): Promise<Outcome> => {
      const now = this.ctx.clock.now().getTime();
      const prior = await this.claim(trx, {
        request_key: reversalKey,
        request_hash: "",
        response: "",
        posting_id: null,
        token_last4: null,
        token: null,
        amount: null,
        created_at: now,
      });
      if (prior) return { ...(JSON.parse(prior.response) as Omit<Outcome, "replayed">), replayed: true };
      const orig = await trx
        .selectFrom("issuer_requests")
        .selectAll()
        .where("request_key", "=", key)
        .$call(forUpdate(this.ctx.db.dialect))
        .executeTakeFirst();
      if (!orig) {
        // Rolls the claim back too: the original may still arrive (a reversal can overtake it).
        throw new CloudError(
          "not_found",
          "original_not_found",
          "找不到要冲正的原交易",
          "No authorisation to reverse under that terminal, STAN and date",
        );
      }
      const response = JSON.parse(orig.response) as AuthorisationResponse;
      let outcome: Omit<Outcome, "replayed"> = { reversed: false, reason: "not-approved" };
      if (response.approved && orig.posting_id && orig.token && orig.amount !== null) {
        await this.undo(trx, orig.token, orig.amount, orig.created_at);
        const posting = await this.ledger.findPosting(`card.auth:${key}`.slice(0, 128), trx);
        const reversal = await this.ledger.post(
          {
            idempotencyKey: `card.reversal:${key}`.slice(0, 128),
            kind: "card.reversal",
            entries: posting!.entries.map((e) => ({ account: e.account, amount: -e.amount })),
            metadata: { reverses: orig.posting_id, tokenLast4: orig.token.slice(-4) },
          },
          trx,
        );
        outcome = { reversed: true, reason: "reversed" };
        const event: AuthorisationEvent = {
          kind: "reversal",
          token: orig.token,
          request: {
            stan: original.stan,
            terminalId: original.terminalId,
            merchantId: "",
            amount: orig.amount,
            currency: "0156",
            track2: "",
            panSequenceNumber: "00",
            posEntryMode: "07",
            field55: "",
            cvm: "none",
            transmittedAt: new Date(now).toISOString(),
          },
          response,
          requestKey: key,
          postingId: reversal.posting.id,
        };
        for (const hook of this.hooks) await hook(trx, event);
      }
      await trx
        .updateTable("issuer_requests")
        .set({ response: JSON.stringify(outcome) })
        .where("request_key", "=", reversalKey)
        .execute();
      return { ...outcome, replayed: false };
    });
  }

  /**
   * Claims a request key by inserting its row: a racing twin blocks on it until we commit. Null when the
   * key is ours now; the earlier request's hash and answer when it was taken (then replay, never redo).
   */
  private async claim(
    trx: Transaction<Database>,
    row: IssuerRequestsTable,
  ): Promise<{ request_hash: string; response: string } | null> {
    const claimed = await trx
      .insertInto("issuer_requests")
      .values(row)
      .onConflict((oc) => oc.column("request_key").doNothing())
      .returning("request_key")
      .executeTakeFirst();
    if (claimed) return null;
    return trx
      .selectFrom("issuer_requests")
      .select(["request_hash", "response"])
      .where("request_key", "=", row.request_key)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirstOrThrow();
  }

  /** Gives an approved amount back: the funding account's balance, the token's counters of that day. */
  private async undo(trx: Transaction<Database>, token: string, amount: number, at: number): Promise<void> {
    const t = await trx
      .selectFrom("issuer_tokens")
      .select(["funding_ref", "day_date", "day_amount", "day_count"])
      .where("token", "=", token)
      .$call(forUpdate(this.ctx.db.dialect))
      .executeTakeFirstOrThrow();
    if (t.day_date === chinaDateDigits(new Date(at)).date)
      await trx
        .updateTable("issuer_tokens")
        .set({ day_amount: Math.max(0, t.day_amount - amount), day_count: Math.max(0, t.day_count - 1) })
        .where("token", "=", token)
        .execute();
    await trx
      .updateTable("issuer_funding_accounts")
      .set((eb) => ({ available: eb("available", "+", amount) }))
      .where("ref", "=", t.funding_ref!)
      .execute();
  }

  /** The ledger posting of an approved payment: the bank owes us, we owe the merchant. */
  private async post(
    trx: Transaction<Database>,
    key: string,
    token: string,
    req: AuthorisationRequest,
    response: AuthorisationResponse,
  ): Promise<string> {
    const bank = await this.bankOf(trx, token);
    const issuer = ledgerAccountIds.issuerSettlement(bank);
    const merchant = ledgerAccountIds.merchant(req.merchantId);
    return this.postOpening(
      trx,
      {
        idempotencyKey: `card.auth:${key}`.slice(0, 128),
        kind: "card.authorisation",
        entries: [
          { account: issuer, amount: req.amount },
          { account: merchant, amount: -req.amount },
        ],
        metadata: {
          terminalId: req.terminalId,
          stan: req.stan,
          tokenLast4: token.slice(-4),
          authorisationCode: response.authorisationCode ?? "",
        },
      },
      [
        [issuer, "issuer_settlement"],
        [merchant, "merchant"],
      ],
    );
  }

  private async bankOf(trx: Transaction<Database>, token: string): Promise<string> {
    const row = await trx
      .selectFrom("issuer_tokens as t")
      .innerJoin("issuer_funding_accounts as a", "a.ref", "t.funding_ref")
      .select("a.bank_code")
      .where("t.token", "=", token)
      .executeTakeFirstOrThrow();
    return row.bank_code;
  }

  /** Posts, opening the posting's ledger accounts first unless this instance knows they exist. */
  private async postOpening(
    trx: Transaction<Database>,
    posting: PostingRequest,
    accounts: readonly (readonly [string, LedgerAccountKind])[],
  ): Promise<string> {
    const open = async (all: boolean) => {
      for (const [id, kind] of accounts)
        if (all || !this.openLedgerAccounts.has(id)) await this.ledger.openAccount({ id, kind }, trx);
    };
    await open(false);
    let posted: PostingResult;
    try {
      posted = await this.ledger.post(posting, trx);
    } catch (e) {
      // The cache was wrong (an opening rolled back with its transaction): open them and post again.
      if (!(e instanceof CloudError && e.code === "unknown_ledger_account")) throw e;
      await open(true);
      posted = await this.ledger.post(posting, trx);
    }
    for (const [id] of accounts) this.openLedgerAccounts.add(id);
    return posted.posting.id;
  }

  // ---- offline clearing ---------------------------------------------------------------------------------

  /**
   * Clears a POS's batch of offline approvals, record by record, each in its own transaction (one record's
   * refusal never holds back the others): src/emv's `IssuerHost.clear` checks the TC and takes the record
   * once per (token, ATC), debiting the funding account (negative if it must: the shortfall); a cleared
   * record is posted to the ledger — the bank owes us the amount, we owe the merchant; a shortfall is put
   * on the bank's `issuer:<bank>:shortfall` account so the books show it — and the hooks record it on the
   * owner's card and notify the phone. A duplicate or a refusal moves nothing.
   */
  async clear(records: readonly unknown[]): Promise<ClearingResult[]> {
    const results: ClearingResult[] = [];
    for (const record of records) results.push(await this.clearOne(record));
    return results;
  }

  private async clearOne(input: unknown): Promise<ClearingResult> {
    return transaction(this.ctx.db.db, async (trx) => {
      const result = await this.host(trx).clear(input);
      const parsed = parseClearingRecord(input);
      if (result.status !== "cleared" || !parsed.ok) return result;
      const { record, token, atc, amount } = parsed.value;
      const clearingId = result.clearingId!;
      const shortfall = result.shortfall ?? 0;
      const bank = await this.bankOf(trx, token);
      const issuer = ledgerAccountIds.issuerSettlement(bank);
      const unfunded = ledgerAccountIds.issuerShortfall(bank);
      const merchant = ledgerAccountIds.merchant(record.merchantId);
      const postingId = await this.postOpening(
        trx,
        {
          idempotencyKey: `card.clear:${clearingId}`,
          kind: "card.offline_clearing",
          entries: [
            { account: issuer, amount: amount - shortfall },
            { account: unfunded, amount: shortfall },
            { account: merchant, amount: -amount },
          ].filter((e) => e.amount !== 0),
          metadata: {
            clearingId,
            terminalId: record.terminalId,
            stan: record.stan,
            atc,
            tokenLast4: token.slice(-4),
            shortfall,
          },
        },
        [
          [issuer, "issuer_settlement"],
          [unfunded, "issuer_settlement"],
          [merchant, "merchant"],
        ],
      );
      await trx
        .updateTable("issuer_clearings")
        .set({ posting_id: postingId })
        .where("clearing_id", "=", clearingId)
        .execute();
      const event: AuthorisationEvent = {
        kind: "clearing",
        token,
        request: {
          stan: record.stan,
          terminalId: record.terminalId,
          merchantId: record.merchantId,
          ...(record.merchantName !== undefined ? { merchantName: record.merchantName } : {}),
          amount,
          currency: record.currency,
          track2: "",
          panSequenceNumber: record.panSequenceNumber,
          posEntryMode: "07",
          field55: record.field55,
          cvm: "none",
          transmittedAt: record.capturedAt,
        },
        response: {
          responseCode: "00",
          approved: true,
          reason: "offline-approved",
          message: { zh: "脱机消费（已清算）", en: "offline payment (cleared)" },
        },
        requestKey: `clear:${clearingId}`,
        postingId,
        paidAt: result.paidAt!,
        clearedAt: result.clearedAt!,
      };
      for (const hook of this.hooks) await hook(trx, event);
      return result;
    });
  }
}

/** The request key under an explicit idempotency key (checked: visible ASCII, at most 64). */
function explicitKey(caller: ApiKeyPrincipal, idempotencyKey: string): string {
  if (!IDEMPOTENCY_KEY.test(idempotencyKey))
    throw new CloudError(
      "invalid",
      "invalid_idempotency_key",
      "Idempotency-Key 须为 1–64 个可见 ASCII 字符",
      "Idempotency-Key must be 1–64 visible ASCII characters",
    );
  return `${caller.keyId}:k:${idempotencyKey}`;
}

/** The request key of a terminal's transaction: terminal id, STAN, transaction date (YYMMDD). */
function terminalKey(caller: ApiKeyPrincipal, terminalId: string, stan: number, date: string): string {
  return `${caller.keyId}:t:${terminalId}:${stan}:${date}`;
}

/** The token in track 2, if the field is well formed (the host answers malformed requests itself). */
function tokenOf(req: AuthorisationRequest): string | null {
  if (typeof req.track2 !== "string" || !/^(?:[0-9A-Fa-f]{2})+$/.test(req.track2)) return null;
  const t = parseTrack2(fromHex(req.track2));
  return t.ok ? t.value.pan : null;
}

/** The terminal's transaction date (9A in field 55, YYMMDD), else the China date of transmission. */
function transactionDate(req: AuthorisationRequest, now: Date): string {
  if (/^(?:[0-9A-Fa-f]{2})+$/.test(req.field55)) {
    const tlvs = parseTlv(fromHex(req.field55), { recurse: false });
    const date = tlvs.ok ? tlvs.value.find((t) => t.tag === 0x9a)?.value : undefined;
    if (date && date.length === 3) return Buffer.from(date).toString("hex");
  }
  const sent = new Date(req.transmittedAt);
  return chinaDateDigits(Number.isNaN(sent.getTime()) ? now : sent).date.slice(2);
}

/** SHA-256 over the request without its transmission time (a retransmission may carry a new one). */
function requestHash(req: AuthorisationRequest): string {
  const { transmittedAt: _sent, ...rest } = req;
  const sorted = Object.fromEntries(Object.entries(rest).sort(([a], [b]) => (a < b ? -1 : 1)));
  return createHash("sha256").update(JSON.stringify(sorted)).digest("hex");
}
