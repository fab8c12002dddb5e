/**
 * src/emv's issuer store interface over the cloud database. `transaction(fn)` runs `fn` in a database
 * transaction (joining the caller's when given one, so an authorisation, its ledger posting and its
 * notification commit together). Rows the host reads to change — the token and the funding account — are
 * read with `FOR UPDATE` on PostgreSQL, so two authorisations of one token queue instead of both passing
 * the ATC check; SQLite's `BEGIN IMMEDIATE` serialises them already.
 */
import type { Transaction } from "kysely";
import type {
  AccountRecord,
  AuthorisationRecord,
  ClearingEntry,
  IssuerStore,
  IssuerTx,
  TokenRecord,
} from "../../emv/issuer/store.js";
import type { AcAlgorithm } from "../../emv/cryptogram.js";
import type { Dialect } from "../db/open.js";
import type { Database } from "../db/schema.js";
import { forUpdate, transaction, type Executor } from "../db/tx.js";
import type { IssuerTokensTable } from "./tables.js";

const iso = (ms: number) => new Date(ms).toISOString();

function tokenFromRow(r: IssuerTokensTable): TokenRecord {
  const t: TokenRecord = {
    token: r.token,
    psn: r.psn,
    expiry: r.expiry,
    status: r.status,
    fundingPan: { iv: r.pan_iv, data: r.pan_data, tag: r.pan_tag },
    fundingLast4: r.funding_last4,
    dki: r.dki,
    algorithm: r.algorithm as AcAlgorithm,
    createdAt: iso(r.created_at),
    limits: {
      perTransaction: r.limit_per_transaction,
      dailyAmount: r.limit_daily_amount,
      dailyCount: r.limit_daily_count,
      noCvm: r.limit_no_cvm,
    },
    atc: { highest: r.atc_highest, recent: JSON.parse(r.atc_recent) as number[] },
    day: { date: r.day_date, amount: r.day_amount, count: r.day_count },
  };
  if (r.device_id !== null) t.deviceId = r.device_id;
  return t;
}

function tokenColumns(t: TokenRecord) {
  return {
    psn: t.psn,
    expiry: t.expiry,
    status: t.status,
    pan_iv: t.fundingPan.iv,
    pan_data: t.fundingPan.data,
    pan_tag: t.fundingPan.tag,
    funding_last4: t.fundingLast4,
    dki: t.dki,
    algorithm: t.algorithm,
    device_id: t.deviceId ?? null,
    created_at: Date.parse(t.createdAt),
    limit_per_transaction: t.limits.perTransaction,
    limit_daily_amount: t.limits.dailyAmount,
    limit_daily_count: t.limits.dailyCount,
    limit_no_cvm: t.limits.noCvm,
    atc_highest: t.atc.highest,
    atc_recent: JSON.stringify(t.atc.recent),
    day_date: t.day.date,
    day_amount: t.day.amount,
    day_count: t.day.count,
  };
}

/** The host's view of one transaction. */
function txOver(trx: Transaction<Database>, dialect: Dialect): IssuerTx {
  return {
    async token(token) {
      const row = await trx
        .selectFrom("issuer_tokens")
        .selectAll()
        .where("token", "=", token)
        .$call(forUpdate(dialect))
        .executeTakeFirst();
      return row && tokenFromRow(row);
    },
    async saveToken(t) {
      const cols = tokenColumns(t);
      await trx
        .insertInto("issuer_tokens")
        .values({ token: t.token, funding_ref: null, par: null, ...cols })
        .onConflict((oc) => oc.column("token").doUpdateSet(cols))
        .execute();
    },
    async account(ref): Promise<AccountRecord | undefined> {
      const row = await trx
        .selectFrom("issuer_funding_accounts")
        .select(["ref", "holder", "funding_last4", "currency", "available", "status"])
        .where("ref", "=", ref)
        .$call(forUpdate(dialect))
        .executeTakeFirst();
      // A closed account has nothing to spend: the host declines it as it would an unknown one.
      if (!row || row.status !== "open") return undefined;
      return {
        ref: row.ref,
        holder: row.holder,
        fundingLast4: row.funding_last4,
        currency: row.currency,
        available: row.available,
      };
    },
    async saveAccount(a) {
      // Funding accounts are opened by the issuer service (with bank, kind, expiry, reserved number); the
      // host only moves their balance.
      const r = await trx
        .updateTable("issuer_funding_accounts")
        .set({ available: a.available, holder: a.holder, currency: a.currency })
        .where("ref", "=", a.ref)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new Error("issuer store: no funding account to update");
    },
    async saveAuthorisation(a: AuthorisationRecord) {
      await trx
        .insertInto("issuer_authorisations")
        .values({
          id: a.id,
          token: a.token,
          atc: a.atc,
          amount: a.amount,
          response_code: a.responseCode,
          reason: a.reason,
          authorisation_code: a.authorisationCode ?? null,
          at: Date.parse(a.at),
          terminal_id: a.terminalId,
          stan: a.stan,
        })
        .execute();
    },
    async authorisations(token) {
      const rows = await trx
        .selectFrom("issuer_authorisations")
        .selectAll()
        .where("token", "=", token)
        .orderBy("at")
        .orderBy("atc")
        .execute();
      return rows.map((r) => {
        const a: AuthorisationRecord = {
          id: r.id,
          token: r.token,
          atc: r.atc,
          amount: r.amount,
          responseCode: r.response_code,
          reason: r.reason,
          at: iso(r.at),
          terminalId: r.terminal_id,
          stan: r.stan,
        };
        if (r.authorisation_code !== null) a.authorisationCode = r.authorisation_code;
        return a;
      });
    },
    async clearing(token, atc): Promise<ClearingEntry | undefined> {
      const r = await trx
        .selectFrom("issuer_clearings")
        .selectAll()
        .where("id", "=", `${token}:${atc}`)
        .executeTakeFirst();
      return (
        r && {
          id: r.id,
          clearingId: r.clearing_id,
          token: r.token,
          atc: r.atc,
          amount: r.amount,
          currency: r.currency,
          cryptogram: r.cryptogram,
          terminalId: r.terminal_id,
          merchantId: r.merchant_id,
          stan: r.stan,
          capturedAt: iso(r.captured_at),
          clearedAt: iso(r.cleared_at),
          shortfall: r.shortfall,
          tokenStatus: r.token_status,
        }
      );
    },
    async saveClearing(c) {
      await trx
        .insertInto("issuer_clearings")
        .values({
          id: c.id,
          clearing_id: c.clearingId,
          token: c.token,
          atc: c.atc,
          amount: c.amount,
          currency: c.currency,
          cryptogram: c.cryptogram,
          terminal_id: c.terminalId,
          merchant_id: c.merchantId,
          stan: c.stan,
          captured_at: Date.parse(c.capturedAt),
          cleared_at: Date.parse(c.clearedAt),
          shortfall: c.shortfall,
          token_status: c.tokenStatus,
          posting_id: null,
        })
        .execute();
    },
  };
}

export class DbIssuerStore implements IssuerStore {
  /** `exec`: the database, or a transaction the store's transactions join. */
  constructor(
    private readonly exec: Executor,
    private readonly dialect: Dialect,
  ) {}

  transaction<T>(fn: (tx: IssuerTx) => Promise<T>): Promise<T> {
    return transaction(this.exec, (trx) => fn(txOver(trx, this.dialect)));
  }
}
