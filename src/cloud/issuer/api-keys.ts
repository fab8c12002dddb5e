/**
 * API keys of the machines that call the issuer host: acquirers and their POS terminals (authorisations)
 * and issuing banks (token lifecycle for their own cards). A key is `twk_` + 256 random bits, shown once
 * at creation; the database keeps only its SHA-256, so a stolen database does not let anyone authorise.
 * Requests carry it in the `x-api-key` header. Revoked keys stop working at once.
 */
import { CloudError } from "../errors.js";
import type { CloudContext } from "../context.js";
import { randomId, randomToken } from "../random.js";
import { sha256Hex } from "../secrets.js";
import type { BankCode } from "../tsp/bins.js";

export type ApiKeyRole = "acquirer" | "issuer";

export interface ApiKeyPrincipal {
  kind: "api-key";
  keyId: string;
  role: ApiKeyRole;
  name: string;
  /** The bank an issuer key speaks for. */
  bankCode: string | null;
}

export const API_KEY_HEADER = "x-api-key";
const KEY_FORMAT = /^twk_[A-Za-z0-9_-]{20,64}$/;

export interface CreatedApiKey {
  id: string;
  /** The key itself: shown once, never stored. */
  key: string;
  role: ApiKeyRole;
  name: string;
  bankCode: string | null;
}

function invalidKey(): CloudError {
  return new CloudError("unauthenticated", "api_key_invalid", "API 密钥无效", "Invalid API key");
}

export class IssuerApiKeys {
  constructor(private readonly ctx: CloudContext) {}

  /** Creates a key; `key` may be given (the development key), otherwise it is random. */
  async create(spec: {
    role: ApiKeyRole;
    name: string;
    bankCode?: BankCode;
    key?: string;
  }): Promise<CreatedApiKey> {
    if (spec.role === "issuer" && !spec.bankCode) throw new RangeError("an issuer key names its bank");
    const key = spec.key ?? randomToken(this.ctx.rng, "twk");
    if (!KEY_FORMAT.test(key)) throw new RangeError("API key format");
    const id = randomId(this.ctx.rng, "iak");
    const bankCode = spec.role === "issuer" ? spec.bankCode! : null;
    await this.ctx.db.db
      .insertInto("issuer_api_keys")
      .values({
        id,
        role: spec.role,
        name: spec.name,
        bank_code: bankCode,
        key_hash: sha256Hex(key),
        created_at: this.ctx.clock.now().getTime(),
        revoked_at: null,
      })
      .onConflict((oc) => oc.column("key_hash").doNothing())
      .execute();
    return { id, key, role: spec.role, name: spec.name, bankCode };
  }

  /** The caller behind a key, if it is valid and of the role asked for. */
  async authenticate(key: string | undefined, role: ApiKeyRole): Promise<ApiKeyPrincipal> {
    if (key === undefined) {
      throw new CloudError(
        "unauthenticated",
        "api_key_missing",
        "请求缺少 API 密钥（x-api-key）",
        "The request carries no API key (x-api-key)",
      );
    }
    if (!KEY_FORMAT.test(key)) throw invalidKey();
    const row = await this.ctx.db.db
      .selectFrom("issuer_api_keys")
      .selectAll()
      .where("key_hash", "=", sha256Hex(key))
      .executeTakeFirst();
    if (!row || row.revoked_at !== null) throw invalidKey();
    if (row.role !== role) {
      throw new CloudError(
        "refused",
        "api_key_role",
        role === "acquirer" ? "该密钥不是收单机构密钥" : "该密钥不是发卡行密钥",
        role === "acquirer" ? "This key is not an acquirer key" : "This key is not an issuer key",
      );
    }
    return { kind: "api-key", keyId: row.id, role: row.role, name: row.name, bankCode: row.bank_code };
  }

  async revoke(id: string): Promise<boolean> {
    const r = await this.ctx.db.db
      .updateTable("issuer_api_keys")
      .set({ revoked_at: this.ctx.clock.now().getTime() })
      .where("id", "=", id)
      .where("revoked_at", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
