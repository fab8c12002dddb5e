import { performance } from "node:perf_hooks";
import { describe, expect, it } from "vitest";
import { DeviceKeyCache } from "./key-cache.js";
import { generateDeviceKeyPair, parseDevicePublicKey } from "../../protocol/request-signing.js";

describe("DeviceKeyCache", () => {
  it("imports a key once and hands back the same key object, equal to a fresh import", () => {
    const { publicKey } = generateDeviceKeyPair();
    const cache = new DeviceKeyCache(4);
    const a = cache.get(publicKey);
    const b = cache.get(publicKey);
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(b.value).toBe(a.value);
    const fresh = parseDevicePublicKey(publicKey);
    expect(fresh.ok && fresh.value.fingerprint).toBe(a.value.fingerprint);
    expect(fresh.ok && fresh.value.key.equals(a.value.key)).toBe(true);
  });

  it("keeps at most its capacity, evicting the least recently used", () => {
    const keys = Array.from({ length: 4 }, () => generateDeviceKeyPair().publicKey);
    const cache = new DeviceKeyCache(3);
    const first = cache.get(keys[0]!);
    cache.get(keys[1]!);
    cache.get(keys[2]!);
    cache.get(keys[0]!); // keys[1] is now the least recently used
    cache.get(keys[3]!);
    expect(cache.size).toBe(3);
    const again = cache.get(keys[0]!);
    expect(first.ok && again.ok && again.value === first.value).toBe(true);
    const k1 = cache.get(keys[1]!); // evicted: imported again, a new object
    expect(k1.ok).toBe(true);
    expect(cache.size).toBe(3);
  });

  it("never keeps what is not an ECDSA P-256 key, and with capacity 0 keeps nothing", () => {
    const cache = new DeviceKeyCache(8);
    expect(cache.get("not base64!").ok).toBe(false);
    expect(cache.get(Buffer.from("garbage").toString("base64")).ok).toBe(false);
    expect(cache.size).toBe(0);
    const none = new DeviceKeyCache(0);
    const { publicKey } = generateDeviceKeyPair();
    const a = none.get(publicKey);
    const b = none.get(publicKey);
    expect(a.ok && b.ok && a.value !== b.value).toBe(true);
    expect(none.size).toBe(0);
  });

  it("a hit costs a small fraction of an import (what it saves on every signed request)", () => {
    const { publicKey } = generateDeviceKeyPair();
    const cache = new DeviceKeyCache(4);
    cache.get(publicKey);
    const n = 500;
    let t = performance.now();
    for (let i = 0; i < n; i++) parseDevicePublicKey(publicKey);
    const importMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < n; i++) cache.get(publicKey);
    const hitMs = performance.now() - t;
    expect(hitMs).toBeLessThan(importMs / 5);
  });
});
