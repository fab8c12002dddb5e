/**
 * A separate process posting to the ledger, for cloud-two-process.test.ts. Reads its job from the
 * environment (database, keys, amount, concurrency), posts, and prints one JSON line of outcomes.
 */
import { systemClock } from "../src/core/clock.js";
import { silentLog } from "../src/cloud/context.js";
import { openDatabase } from "../src/cloud/db/open.js";
import { isCloudError } from "../src/cloud/errors.js";
import { Ledger } from "../src/cloud/ledger/service.js";
import { resolvePolicy } from "../src/cloud/policy.js";
import { systemRng } from "../src/cloud/random.js";

const env = process.env;
const db = await openDatabase({
  databaseUrl: env["DATABASE_URL"] || undefined,
  schema: env["DATABASE_SCHEMA"] || undefined,
  dataDir: env["DATA_DIR"],
});
const ledger = new Ledger({
  db,
  clock: systemClock,
  rng: systemRng,
  policy: resolvePolicy(),
  log: silentLog,
});
const keys = (env["KEYS"] ?? "").split(",");
if (env["REVERSE"] === "1") keys.reverse();
const amount = Number(env["AMOUNT"]);
const [from, to] = [env["FROM"]!, env["TO"]!];
const concurrency = Number(env["CONCURRENCY"] ?? "8");

const outcomes: Record<string, string> = {};
let next = 0;
async function lane(): Promise<void> {
  while (next < keys.length) {
    const key = keys[next++]!;
    try {
      const r = await ledger.post({
        idempotencyKey: key,
        kind: "test.topup",
        entries: [
          { account: from, amount },
          { account: to, amount: -amount },
        ],
      });
      outcomes[key] = r.replayed ? "replayed" : "posted";
    } catch (e) {
      outcomes[key] = isCloudError(e) ? e.code : `error: ${e instanceof Error ? e.message : String(e)}`;
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, lane));
await db.close();
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
