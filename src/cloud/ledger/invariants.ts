/**
 * The ledger's invariants, checked by queries over one snapshot (tests call it after every scenario;
 * an operator can run it any time):
 *
 *   1. every transfer has at least two entries, and its entries sum to zero;
 *   2. every account's running debit and credit totals equal the sums of its entries;
 *   3. no account breaks its flags (no negative balance where forbidden);
 *   4. each card product's float equals the sum of its cards' balances as last proven by the card (TAC),
 *      as reported by each registered FloatProofSource (the transit service registers one).
 *
 * Cost: one pass over the entries; fine for checks and tests, not meant for every request.
 */
import type { Fen } from "../../core/money.js";
import type { Executor } from "../db/tx.js";
import { KIND_RULES, LedgerFlags, normalBalance, type LedgerAccountKind } from "./accounts.js";

/** What a card service reports for the float invariant, one row per product. */
export interface ProvenFloat {
  /** The product's float account (`ledgerAccountIds.cardFloat(product)`). */
  floatAccount: string;
  /**
   * What the float must hold: the sum of the product's cards' balances as last proven by TAC, plus any
   * amount the service knows is in flight (a load posted but not yet proven). The service decides.
   */
  expectedFen: Fen;
}

export interface FloatProofSource {
  /** Names the source in reports, e.g. `transit`. */
  readonly name: string;
  provenFloats(exec: Executor): Promise<ProvenFloat[]>;
}

export type Violation =
  | { kind: "unbalanced_transfer"; transferId: string; sum: Fen; entries: number }
  | {
      kind: "totals_mismatch";
      account: string;
      debitsPosted: Fen;
      creditsPosted: Fen;
      entryDebits: Fen;
      entryCredits: Fen;
    }
  | { kind: "negative_balance"; account: string; balance: Fen }
  | { kind: "float_mismatch"; source: string; floatAccount: string; ledgerFen: Fen; expectedFen: Fen };

export interface InvariantReport {
  ok: boolean;
  transfers: number;
  accounts: number;
  violations: Violation[];
}

export async function checkLedgerInvariants(
  exec: Executor,
  sources: readonly FloatProofSource[],
): Promise<InvariantReport> {
  const violations: Violation[] = [];

  // 1. Transfers: ≥ 2 entries, summing to zero (a transfer with no entries shows as 0 entries).
  const transfers = await exec
    .selectFrom("ledger_transfers as t")
    .leftJoin("ledger_entries as e", "e.transfer_id", "t.id")
    .select((eb) => [
      "t.id as id",
      eb.fn.coalesce(eb.fn.sum<number>("e.amount"), eb.lit(0)).as("total"),
      eb.fn.count<number>("e.account_id").as("n"),
    ])
    .groupBy("t.id")
    .execute();
  for (const t of transfers) {
    const total = Number(t.total);
    const n = Number(t.n);
    if (total !== 0 || n < 2)
      violations.push({ kind: "unbalanced_transfer", transferId: t.id, sum: total, entries: n });
  }
  // Entries whose transfer row is missing cannot exist (foreign key), so the per-transfer check covers all.

  // 2 and 3. Running totals against entries; flags.
  const accounts = await exec
    .selectFrom("ledger_accounts as a")
    .leftJoin("ledger_entries as e", "e.account_id", "a.id")
    .select((eb) => [
      "a.id as id",
      "a.kind as kind",
      "a.flags as flags",
      "a.debits_posted as debitsPosted",
      "a.credits_posted as creditsPosted",
      eb.fn
        .coalesce(
          eb.fn.sum<number>(
            eb.case().when("e.amount", ">", 0).then(eb.ref("e.amount")).else(eb.lit(0)).end(),
          ),
          eb.lit(0),
        )
        .as("entryDebits"),
      eb.fn
        .coalesce(
          eb.fn.sum<number>(
            eb
              .case()
              .when("e.amount", "<", 0)
              .then(eb.neg(eb.ref("e.amount")))
              .else(eb.lit(0))
              .end(),
          ),
          eb.lit(0),
        )
        .as("entryCredits"),
    ])
    .groupBy(["a.id", "a.kind", "a.flags", "a.debits_posted", "a.credits_posted"])
    .execute();
  const balances = new Map<string, Fen>();
  for (const a of accounts) {
    const entryDebits = Number(a.entryDebits);
    const entryCredits = Number(a.entryCredits);
    if (entryDebits !== a.debitsPosted || entryCredits !== a.creditsPosted) {
      violations.push({
        kind: "totals_mismatch",
        account: a.id,
        debitsPosted: a.debitsPosted,
        creditsPosted: a.creditsPosted,
        entryDebits,
        entryCredits,
      });
    }
    const normal = KIND_RULES[a.kind as LedgerAccountKind]?.normal ?? "credit";
    const balance = normalBalance(normal, entryDebits, entryCredits);
    balances.set(a.id, balance);
    const brokeDebits =
      (a.flags & LedgerFlags.DEBITS_MUST_NOT_EXCEED_CREDITS) !== 0 && entryDebits > entryCredits;
    const brokeCredits =
      (a.flags & LedgerFlags.CREDITS_MUST_NOT_EXCEED_DEBITS) !== 0 && entryCredits > entryDebits;
    if (brokeDebits || brokeCredits) violations.push({ kind: "negative_balance", account: a.id, balance });
  }

  // 4. Floats against what the cards have proven.
  for (const source of sources) {
    for (const p of await source.provenFloats(exec)) {
      const ledgerFen = balances.get(p.floatAccount) ?? 0;
      if (ledgerFen !== p.expectedFen) {
        violations.push({
          kind: "float_mismatch",
          source: source.name,
          floatAccount: p.floatAccount,
          ledgerFen,
          expectedFen: p.expectedFen,
        });
      }
    }
  }

  return { ok: violations.length === 0, transfers: transfers.length, accounts: accounts.length, violations };
}
