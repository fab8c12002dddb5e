/**
 * `tapwallet issuer-key create --role acquirer --name NAME` / `--role issuer --bank ICBC`, `tapwallet
 * issuer-key revoke ID`: the API keys POS acquirers and issuing banks use with the cloud's issuer host
 * (docs/CLOUD.md "Bank cards"). Works on the database the server uses (same environment: DATA_DIR or
 * DATABASE_URL). A new key is printed once; the database keeps only its SHA-256.
 */
import type { Command } from "commander";
import { systemClock } from "../../core/clock.js";
import { TapwalletError } from "../../core/errors.js";
import { loadConfig } from "../../cloud/config.js";
import { silentLog, type CloudContext } from "../../cloud/context.js";
import { migrateToLatest } from "../../cloud/db/migrate.js";
import { openDatabase } from "../../cloud/db/open.js";
import { type ApiKeyRole, type CreatedApiKey, IssuerApiKeys } from "../../cloud/issuer/api-keys.js";
import { cloudModules } from "../../cloud/modules.js";
import { resolvePolicy } from "../../cloud/policy.js";
import { systemRng } from "../../cloud/random.js";
import { BANKS, type BankCode } from "../../cloud/tsp/bins.js";

export interface KeyOptions {
  role: string;
  name: string;
  bank?: string;
}

function usage(zh: string, en: string): TapwalletError {
  return new TapwalletError("issuer_key_usage", zh, en);
}

/** Opens the configured database (migrated) and runs `fn` with the key store. */
async function withKeys<T>(env: NodeJS.ProcessEnv, fn: (keys: IssuerApiKeys) => Promise<T>): Promise<T> {
  const config = loadConfig(env);
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    schema: config.databaseSchema,
    dataDir: config.dataDir,
    sqliteSynchronous: config.sqliteSynchronous,
  });
  try {
    await migrateToLatest(db, cloudModules);
    const ctx: CloudContext = {
      db,
      clock: systemClock,
      rng: systemRng,
      policy: resolvePolicy(),
      log: silentLog,
    };
    return await fn(new IssuerApiKeys(ctx));
  } finally {
    await db.close();
  }
}

export async function createKey(o: KeyOptions, env: NodeJS.ProcessEnv = process.env): Promise<CreatedApiKey> {
  if (o.role !== "acquirer" && o.role !== "issuer")
    throw usage("--role 须为 acquirer 或 issuer", "--role must be acquirer or issuer");
  const name = o.name.trim();
  if (!name || name.length > 64) throw usage("--name 须为 1–64 个字符", "--name must be 1–64 characters");
  let bankCode: BankCode | undefined;
  if (o.role === "issuer") {
    const bank = o.bank?.toUpperCase();
    if (!bank || !Object.hasOwn(BANKS, bank))
      throw usage(
        `发卡行密钥须用 --bank 指定银行：${Object.keys(BANKS).join(", ")}`,
        `an issuer key needs --bank, one of ${Object.keys(BANKS).join(", ")}`,
      );
    bankCode = bank as BankCode;
  }
  return withKeys(env, (keys) =>
    keys.create({ role: o.role as ApiKeyRole, name, ...(bankCode ? { bankCode } : {}) }),
  );
}

export async function revokeKey(id: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return withKeys(env, (keys) => keys.revoke(id));
}

export function register(program: Command): void {
  const cmd = program
    .command("issuer-key")
    .description("发卡行主机的 API 密钥 / API keys for the cloud's issuer host (acquirers, issuing banks)");
  cmd
    .command("create")
    .description("新建密钥（只显示一次）/ create a key (shown once)")
    .requiredOption("--role <role>", "acquirer（收单，POS 授权）或 issuer（发卡行，令牌管理）")
    .requiredOption("--name <name>", "名称 / a name for the key's holder")
    .option("--bank <code>", "发卡行代码（issuer 密钥）/ the bank of an issuer key, e.g. ICBC")
    .action(async (o: KeyOptions) => {
      const k = await createKey(o);
      process.stdout.write(
        `${JSON.stringify({ id: k.id, role: k.role, name: k.name, bank: k.bankCode, key: k.key }, null, 2)}\n` +
          "密钥只显示这一次，请妥善保存 / the key is shown only this once: keep it safe\n",
      );
    });
  cmd
    .command("revoke <id>")
    .description("吊销密钥 / revoke a key (it stops working at once)")
    .action(async (id: string) => {
      const revoked = await revokeKey(id);
      process.stdout.write(
        revoked ? `已吊销 / revoked ${id}\n` : `没有有效的密钥 ${id} / no live key ${id}\n`,
      );
      process.exitCode = revoked ? 0 : 3;
    });
}
