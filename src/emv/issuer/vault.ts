/**
 * The token vault's cryptography: funding PANs are stored only encrypted (AES-256-GCM under a key derived
 * from the vault master key, the token as associated data so a ciphertext cannot be moved to another token),
 * and accounts are found by a keyed fingerprint of the PAN (HMAC-SHA-256 under a second derived key), never
 * by the PAN itself. Nothing here logs or returns a PAN in an error.
 *
 * AES-GCM and HMAC come straight from node:crypto: src/crypto holds the card-side block ciphers and MACs,
 * not authenticated encryption.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from "node:crypto";
import { type Bytes, ascii, fromHex, toHex } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";

/** A funding PAN as stored: hex of the 12-byte nonce, the ciphertext and the 16-byte GCM tag. */
export interface SealedPan {
  iv: string;
  data: string;
  tag: string;
}

export class TokenVault {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  /** `masterKey`: 32 secret bytes (from the cloud's key store; random in a demo). */
  constructor(
    masterKey: Bytes,
    private readonly random: (n: number) => Bytes,
  ) {
    if (masterKey.length !== 32) throw new RangeError("vault master key must be 32 bytes");
    this.encKey = Buffer.from(
      hkdfSync("sha256", masterKey, new Uint8Array(0), ascii("tapwallet vault pan-enc v1"), 32),
    );
    this.macKey = Buffer.from(
      hkdfSync("sha256", masterKey, new Uint8Array(0), ascii("tapwallet vault pan-fp v1"), 32),
    );
  }

  seal(pan: string, token: string): SealedPan {
    const iv = this.random(12);
    const c = createCipheriv("aes-256-gcm", this.encKey, iv);
    c.setAAD(ascii(token));
    const data = Buffer.concat([c.update(pan, "utf8"), c.final()]);
    return { iv: toHex(iv), data: toHex(data), tag: toHex(c.getAuthTag()) };
  }

  open(sealed: SealedPan, token: string): Result<string> {
    try {
      const d = createDecipheriv("aes-256-gcm", this.encKey, fromHex(sealed.iv));
      d.setAAD(ascii(token));
      d.setAuthTag(fromHex(sealed.tag));
      const pan = Buffer.concat([d.update(fromHex(sealed.data)), d.final()]).toString("utf8");
      return /^\d{12,19}$/.test(pan) ? ok(pan) : err("the vault entry does not hold a PAN");
    } catch {
      return err("the vault entry does not open under this key and token");
    }
  }

  /** Keyed fingerprint of a PAN: the account reference. */
  fingerprint(pan: string): string {
    return createHmac("sha256", this.macKey).update(pan).digest("hex").toUpperCase();
  }
}
