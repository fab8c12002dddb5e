/**
 * Secrets at rest: AES-256-GCM under a server key, bound to what the value is for.
 *
 * A sealed value is `tw1.<base64url(12-byte IV ‖ ciphertext ‖ 16-byte tag)>`. The associated data names the
 * purpose and the row (`tsm.se-keys:<SE id>`, `access.card:<card id>`), so a blob copied from one row to
 * another does not open. The key never leaves this object and never enters a log or an error.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { type Result, err, ok } from "../../core/result.js";

const PREFIX = "tw1.";
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SealedBox {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError("a sealing key is 32 bytes (AES-256)");
    this.key = Buffer.from(key);
  }

  seal(plain: Uint8Array | string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
  }

  /** The plaintext, or an error when the blob is malformed, for another row, or under another key. */
  open(sealed: string, aad: string): Result<Buffer> {
    if (!sealed.startsWith(PREFIX)) return err("not a sealed value");
    const raw = Buffer.from(sealed.slice(PREFIX.length), "base64url");
    if (raw.length < IV_BYTES + TAG_BYTES) return err("sealed value too short");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(aad, "utf8"));
      decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
      return ok(
        Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]),
      );
    } catch {
      return err("sealed value does not open (wrong key, row or tampered)");
    }
  }

  sealJson(value: unknown, aad: string): string {
    return this.seal(JSON.stringify(value), aad);
  }

  openJson(sealed: string, aad: string): Result<unknown> {
    const r = this.open(sealed, aad);
    if (!r.ok) return r;
    try {
      return ok(JSON.parse(r.value.toString("utf8")) as unknown);
    } catch {
      return err("sealed value is not JSON");
    }
  }
}
