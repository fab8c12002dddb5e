/**
 * Randomness the cloud depends on (ids, session tokens, one-time codes) comes through `Rng`, so tests can
 * inject a seeded one and get the same ids and codes every run.
 */
import { createHash, randomBytes } from "node:crypto";

export interface Rng {
  bytes(n: number): Uint8Array;
}

export const systemRng: Rng = { bytes: (n) => new Uint8Array(randomBytes(n)) };

/** Deterministic bytes: SHA-256(seed ‖ counter) blocks. For tests only; never for real secrets. */
export function seededRng(seed: string): Rng {
  let counter = 0;
  let pool = new Uint8Array(0);
  return {
    bytes(n: number): Uint8Array {
      while (pool.length < n) {
        const block = createHash("sha256").update(`${seed}:${counter++}`).digest();
        const next = new Uint8Array(pool.length + block.length);
        next.set(pool);
        next.set(block, pool.length);
        pool = next;
      }
      const out = pool.slice(0, n);
      pool = pool.slice(n);
      return out;
    },
  };
}

/** An opaque id such as `acc_5f0c…` (96 random bits, hex). */
export function randomId(rng: Rng, prefix: string): string {
  return `${prefix}_${Buffer.from(rng.bytes(12)).toString("hex")}`;
}

/** A bearer secret: 256 random bits, base64url, with a prefix that says what it is. */
export function randomToken(rng: Rng, prefix: string): string {
  return `${prefix}_${Buffer.from(rng.bytes(32)).toString("base64url")}`;
}

/** `n` uniformly random decimal digits (rejection sampling, so no digit is favoured). */
export function randomDigits(rng: Rng, n: number): string {
  let out = "";
  while (out.length < n) {
    for (const b of rng.bytes(n)) {
      if (b < 250 && out.length < n) out += String(b % 10);
    }
  }
  return out;
}
