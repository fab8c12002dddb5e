/**
 * The imported public keys of the phones that sign requests, kept in a bounded LRU.
 *
 * Checking a signature needs the device's key as a `KeyObject`; importing it from its stored SPKI (parse the
 * DER, check the curve, re-export, hash) cost about a tenth of the server's CPU when done on every request.
 *
 * This is not state in the sense of "no state outside the database": the entry is keyed by the very SPKI bytes
 * the request's `devices` row holds, and its value is a pure function of those bytes, so it can never disagree
 * with the database. Whether the key may sign at all (the row exists, the phone is not removed, its account)
 * is still read from the row on every request, so removing a phone takes effect at once on every instance;
 * an instance that never saw a key, or evicted it, only imports it again. Two instances with different
 * cache contents answer every request identically.
 */
import { type Result, ok } from "../../core/result.js";
import { type DevicePublicKey, parseDevicePublicKey } from "../../protocol/request-signing.js";

export class DeviceKeyCache {
  /** Map iteration order is insertion order: the first entry is the least recently used. */
  private readonly keys = new Map<string, DevicePublicKey>();

  constructor(private readonly capacity: number) {}

  /** The key stored as `spki` (base64 SPKI DER), imported once while it stays in the cache. */
  get(spki: string): Result<DevicePublicKey> {
    const hit = this.keys.get(spki);
    if (hit) {
      this.keys.delete(spki);
      this.keys.set(spki, hit);
      return ok(hit);
    }
    const parsed = parseDevicePublicKey(spki);
    if (parsed.ok && this.capacity > 0) {
      this.keys.set(spki, parsed.value);
      if (this.keys.size > this.capacity) this.keys.delete(this.keys.keys().next().value!);
    }
    return parsed;
  }

  get size(): number {
    return this.keys.size;
  }
}
