/**
 * The transit half of the ledger's float invariant (ledger/invariants.ts): for every product, its float must
 * equal the sum of its cards' balances as the cloud can prove them — first top-ups, loads proven by TAC or
 * counter, minus TAC-checked purchases cleared and balances paid back — plus the loads in flight (authorised,
 * posted, not yet proven either way). Every catalogue product is reported, so a float holding money for no
 * card shows up too.
 */
import { PRODUCTS } from "../../transit/index.js";
import type { Executor } from "../db/tx.js";
import type { FloatProofSource, ProvenFloat } from "../ledger/invariants.js";
import { transitAccounts } from "./channels.js";

async function provenFloats(exec: Executor): Promise<ProvenFloat[]> {
  const balances = await exec
    .selectFrom("transit_cards")
    .select((eb) => ["product_id", eb.fn.sum<number>("balance").as("total")])
    .groupBy("product_id")
    .execute();
  const inflight = await exec
    .selectFrom("transit_loads as l")
    .innerJoin("transit_cards as c", "c.id", "l.card_id")
    .select((eb) => ["c.product_id as product_id", eb.fn.sum<number>("l.amount").as("total")])
    .where("l.state", "=", "authorised")
    .groupBy("c.product_id")
    .execute();
  const expected = new Map<string, number>(PRODUCTS.map((p) => [p.id, 0]));
  for (const r of [...balances, ...inflight])
    expected.set(r.product_id, (expected.get(r.product_id) ?? 0) + Number(r.total));
  return [...expected].map(([product, fen]) => ({
    floatAccount: transitAccounts.float(product),
    expectedFen: fen,
  }));
}

export const transitFloatSource: FloatProofSource = { name: "transit", provenFloats };
