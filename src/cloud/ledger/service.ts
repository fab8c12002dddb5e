/**
 * The ledger: double-entry postings in integer fen, each under an idempotency key.
 *
 * `post()` in one transaction:
 *   1. lock the accounts touched, in id order (FOR UPDATE on PostgreSQL; SQLite's writer lock already
 *      serialises), and in the same query see whether the key has been posted: if so, return that
 *      posting (`replayed: true`) when it asked for the same entries, else refuse
 *      (`idempotency_conflict`); nothing moves;
 *   2. apply the entries to the locked totals and refuse if any account's flags would be broken
 *      (`insufficient_funds`), unless a duplicate committed while we waited for the locks (then it is a
 *      replay); nothing has been written yet, so a caller's outer transaction stays clean;
 *   3. insert the transfer (ON CONFLICT on the key: a racing duplicate that got in first wins and we
 *      replay it), its entries, and add to the accounts' running totals in one statement.
 *
 * A refused posting leaves no row: retrying it with the same key later (after funding, say) is allowed.
 */
import { sql } from "kysely";
import type { Fen } from "../../core/money.js";
import type { CloudContext } from "../context.js";
import type { LedgerAccountsTable, LedgerTransfersTable } from "./tables.js";
import { transaction, type Executor } from "../db/tx.js";
import { CloudError } from "../errors.js";
import { randomId } from "../random.js";
import { sha256Hex } from "../secrets.js";
import {
  KIND_RULES,
  LEDGER_ACCOUNT_ID,
  LedgerFlags,
  isLedgerAccountKind,
  normalBalance,
  type LedgerAccountKind,
} from "./accounts.js";
import { checkLedgerInvariants, type FloatProofSource, type InvariantReport } from "./invariants.js";

/** Largest amount one entry may carry: 100 亿元. Keeps every running total far inside 2^53. */
const MAX_ENTRY_FEN = 1_000_000_000_000;
/** Most entries one posting may have. */
const MAX_ENTRIES = 16;

export interface Entry {
  account: string;
  /** Signed fen: + debit, − credit. */
  amount: Fen;
}

export interface PostingRequest {
  idempotencyKey: string;
  kind: string;
  entries: Entry[];
  metadata?: Record<string, string | number>;
}

export interface Posting {
  id: string;
  idempotencyKey: string;
  kind: string;
  entries: Entry[];
  metadata: Record<string, string | number>;
  createdAt: string;
}

export interface PostingResult {
  posting: Posting;
  /** True when the key had already been posted and this call moved nothing. */
  replayed: boolean;
}

export interface LedgerAccount {
  id: string;
  kind: LedgerAccountKind;
  ownerAccountId: string | null;
  flags: number;
  normal: "debit" | "credit";
  debitsPosted: Fen;
  creditsPosted: Fen;
  /** On the normal side. */
  balance: Fen;
  createdAt: string;
}

export interface OpenAccountSpec {
  id: string;
  kind: LedgerAccountKind;
  ownerAccountId?: string;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;
const POSTING_KIND = /^[a-z][a-z0-9_.]{0,63}$/;

function invalid(en: string, zh: string): CloudError {
  return new CloudError("invalid", "invalid_posting", `记账请求无效：${zh}`, `Invalid posting: ${en}`);
}

function validate(req: PostingRequest): void {
  if (!IDEMPOTENCY_KEY.test(req.idempotencyKey)) throw invalid("bad idempotency key", "幂等键格式错误");
  if (!POSTING_KIND.test(req.kind)) throw invalid("bad kind", "类型格式错误");
  const n = req.entries.length;
  if (n < 2 || n > MAX_ENTRIES)
    throw invalid(`needs 2–${MAX_ENTRIES} entries`, `分录数须为 2–${MAX_ENTRIES}`);
  const seen = new Set<string>();
  let sum = 0;
  for (const e of req.entries) {
    if (!LEDGER_ACCOUNT_ID.test(e.account)) throw invalid("bad account id", "账户标识格式错误");
    if (seen.has(e.account)) throw invalid("an account appears twice", "同一账户出现两次");
    seen.add(e.account);
    if (!Number.isSafeInteger(e.amount) || e.amount === 0 || Math.abs(e.amount) > MAX_ENTRY_FEN) {
      throw invalid(
        "each amount must be a non-zero integer number of fen within limits",
        "金额须为非零整数分且在限额内",
      );
    }
    sum += e.amount;
  }
  if (sum !== 0) throw invalid("entries do not sum to zero", "借贷不平衡");
}

function fingerprint(req: PostingRequest): string {
  const entries = [...req.entries]
    .sort((a, b) => (a.account < b.account ? -1 : 1))
    .map((e) => [e.account, e.amount]);
  return sha256Hex(JSON.stringify([req.kind, entries]));
}

export class Ledger {
  private readonly floatSources: FloatProofSource[] = [];

  constructor(private readonly ctx: CloudContext) {}

  /** Registers a source of proven card balances (the transit service: balances last proven by TAC). */
  addFloatProofSource(source: FloatProofSource): void {
    this.floatSources.push(source);
  }

  private view(row: LedgerAccountsTable): LedgerAccount {
    const kind = row.kind as LedgerAccountKind;
    const normal = KIND_RULES[kind]?.normal ?? "credit";
    return {
      id: row.id,
      kind,
      ownerAccountId: row.owner_account_id,
      flags: row.flags,
      normal,
      debitsPosted: row.debits_posted,
      creditsPosted: row.credits_posted,
      balance: normalBalance(normal, row.debits_posted, row.credits_posted),
      createdAt: new Date(row.created_at).toISOString(),
    };
  }

  /** Opens the account if it does not exist (idempotent); refuses if it exists with another kind or owner. */
  async openAccount(spec: OpenAccountSpec, exec: Executor = this.ctx.db.db): Promise<LedgerAccount> {
    if (!LEDGER_ACCOUNT_ID.test(spec.id) || !isLedgerAccountKind(spec.kind)) {
      throw new CloudError("invalid", "invalid_ledger_account", "账户定义无效", "Invalid ledger account");
    }
    await exec
      .insertInto("ledger_accounts")
      .values({
        id: spec.id,
        kind: spec.kind,
        owner_account_id: spec.ownerAccountId ?? null,
        flags: KIND_RULES[spec.kind].flags,
        debits_posted: 0,
        credits_posted: 0,
        created_at: this.ctx.clock.now().getTime(),
      })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    const row = await exec
      .selectFrom("ledger_accounts")
      .selectAll()
      .where("id", "=", spec.id)
      .executeTakeFirstOrThrow();
    if (row.kind !== spec.kind || row.owner_account_id !== (spec.ownerAccountId ?? null)) {
      throw new CloudError(
        "conflict",
        "ledger_account_conflict",
        "账户已存在且定义不同",
        "The ledger account exists with another definition",
      );
    }
    return this.view(row);
  }

  async account(id: string, exec: Executor = this.ctx.db.db): Promise<LedgerAccount | undefined> {
    const row = await exec.selectFrom("ledger_accounts").selectAll().where("id", "=", id).executeTakeFirst();
    return row && this.view(row);
  }

  /** The posting made under `idempotencyKey`, if any. */
  async findPosting(idempotencyKey: string, exec: Executor = this.ctx.db.db): Promise<Posting | undefined> {
    const t = await exec
      .selectFrom("ledger_transfers")
      .selectAll()
      .where("idempotency_key", "=", idempotencyKey)
      .executeTakeFirst();
    return t && this.loadPosting(exec, t);
  }

  private async loadPosting(exec: Executor, t: LedgerTransfersTable): Promise<Posting> {
    const entries = await exec
      .selectFrom("ledger_entries")
      .select(["account_id", "amount"])
      .where("transfer_id", "=", t.id)
      .orderBy("account_id")
      .execute();
    return {
      id: t.id,
      idempotencyKey: t.idempotency_key,
      kind: t.kind,
      entries: entries.map((e) => ({ account: e.account_id, amount: e.amount })),
      metadata: JSON.parse(t.metadata) as Record<string, string | number>,
      createdAt: new Date(t.created_at).toISOString(),
    };
  }

  private async replay(exec: Executor, t: LedgerTransfersTable, print: string): Promise<PostingResult> {
    if (t.fingerprint !== print) {
      throw new CloudError(
        "conflict",
        "idempotency_conflict",
        "幂等键已用于另一笔不同的记账",
        "This idempotency key was already used for a different posting",
      );
    }
    return { posting: await this.loadPosting(exec, t), replayed: true };
  }

  /** Posts a balanced set of entries once per idempotency key (see the file comment for the steps). */
  async post(req: PostingRequest, exec: Executor = this.ctx.db.db): Promise<PostingResult> {
    validate(req);
    const print = fingerprint(req);
    const metadata = JSON.stringify(req.metadata ?? {});
    const byKey = (trx: Executor) =>
      trx
        .selectFrom("ledger_transfers")
        .selectAll()
        .where("idempotency_key", "=", req.idempotencyKey)
        .executeTakeFirst();

    return transaction(exec, async (trx) => {
      // One round trip: lock the accounts (sorted, so concurrent postings queue rather than deadlock)
      // and see whether the key was already posted.
      const ids = req.entries.map((e) => e.account).sort();
      const rows = await trx
        .selectFrom("ledger_accounts as a")
        .leftJoin("ledger_transfers as t", (join) => join.on("t.idempotency_key", "=", req.idempotencyKey))
        .select(["a.id", "a.flags", "a.debits_posted", "a.credits_posted", "t.id as posted"])
        .where("a.id", "in", ids)
        .orderBy("a.id")
        .$if(this.ctx.db.dialect === "postgres", (qb) => qb.forUpdate("a"))
        .execute();
      if (rows.some((r) => r.posted !== null)) {
        const existing = await byKey(trx);
        if (existing) return this.replay(trx, existing, print);
      }

      const byId = new Map(rows.map((r) => [r.id, r]));
      const deltas: { id: string; debits: number; credits: number }[] = [];
      for (const e of req.entries) {
        const acc = byId.get(e.account);
        if (!acc) {
          throw new CloudError(
            "not_found",
            "unknown_ledger_account",
            "记账账户不存在",
            "No such ledger account",
            {
              account: e.account,
            },
          );
        }
        const debits = e.amount > 0 ? e.amount : 0;
        const credits = e.amount < 0 ? -e.amount : 0;
        const d = acc.debits_posted + debits;
        const c = acc.credits_posted + credits;
        if (
          (acc.flags & LedgerFlags.DEBITS_MUST_NOT_EXCEED_CREDITS && d > c) ||
          (acc.flags & LedgerFlags.CREDITS_MUST_NOT_EXCEED_DEBITS && c > d)
        ) {
          // A duplicate of this posting may have committed while we waited for the locks (and spent
          // the money): then this call is a replay, not a decline.
          const twin = await byKey(trx);
          if (twin) return this.replay(trx, twin, print);
          throw new CloudError("conflict", "insufficient_funds", "余额不足", "Insufficient funds", {
            account: e.account,
          });
        }
        deltas.push({ id: acc.id, debits, credits });
      }

      const now = this.ctx.clock.now().getTime();
      const id = randomId(this.ctx.rng, "xfr");
      const inserted = await trx
        .insertInto("ledger_transfers")
        .values({
          id,
          idempotency_key: req.idempotencyKey,
          kind: req.kind,
          fingerprint: print,
          metadata,
          created_at: now,
        })
        .onConflict((oc) => oc.column("idempotency_key").doNothing())
        .returning("id")
        .executeTakeFirst();
      if (!inserted) {
        const winner = await byKey(trx);
        if (!winner) throw new Error("idempotency key conflict without a committed posting");
        return this.replay(trx, winner, print);
      }
      await trx
        .insertInto("ledger_entries")
        .values(
          req.entries.map((e) => ({
            transfer_id: id,
            account_id: e.account,
            amount: e.amount,
            created_at: now,
          })),
        )
        .execute();
      // All running totals in one statement.
      const perAccount = (field: "debits" | "credits") =>
        sql<number>`case id ${sql.join(
          deltas.map((d) => sql`when ${d.id} then cast(${d[field]} as bigint)`),
          sql` `,
        )} else 0 end`;
      await trx
        .updateTable("ledger_accounts")
        .set({
          debits_posted: sql<number>`debits_posted + ${perAccount("debits")}`,
          credits_posted: sql<number>`credits_posted + ${perAccount("credits")}`,
        })
        .where("id", "in", ids)
        .execute();
      return {
        posting: {
          id,
          idempotencyKey: req.idempotencyKey,
          kind: req.kind,
          entries: [...req.entries].sort((a, b) => (a.account < b.account ? -1 : 1)),
          metadata: req.metadata ?? {},
          createdAt: new Date(now).toISOString(),
        },
        replayed: false,
      };
    });
  }

  /** Checks every invariant over one consistent snapshot; see invariants.ts. */
  async checkInvariants(): Promise<InvariantReport> {
    return transaction(this.ctx.db.db, (trx) => checkLedgerInvariants(trx, this.floatSources), {
      isolation: this.ctx.db.dialect === "postgres" ? "repeatable read" : undefined,
    });
  }
}
