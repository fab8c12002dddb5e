/**
 * Block ciphers over `node:crypto`: DES, 2- and 3-key 3DES, AES-128/192/256 and SM4, as raw blocks, ECB and
 * CBC. Nothing is padded here (see padding.ts); data must be a whole number of blocks.
 *
 * Node's default OpenSSL 3 provider has no single DES, so DES runs as EDE with K‖K (E_K ∘ D_K ∘ E_K = E_K).
 * Each call builds one OpenSSL context and finishes it with `final()`, which frees (and cleanses) the key
 * schedule at once: no key material is cached between calls. Wrong key/IV/data lengths are programming
 * errors and throw `RangeError`.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import type { Bytes } from "../core/bytes.js";
import { plain } from "./buffers.js";

export type CipherName = "des" | "3des" | "aes" | "sm4";

export interface BlockCipher {
  readonly name: CipherName;
  /** Block size in bytes: 8 for DES/3DES, 16 for AES/SM4. */
  readonly blockSize: number;
  encryptBlock(key: Bytes, block: Bytes): Bytes;
  decryptBlock(key: Bytes, block: Bytes): Bytes;
}

export const BLOCK_SIZE: Readonly<Record<CipherName, number>> = { des: 8, "3des": 8, aes: 16, sm4: 16 };

/** The valid key lengths in bytes for each cipher. */
export const KEY_LENGTHS: Readonly<Record<CipherName, readonly number[]>> = {
  des: [8],
  "3des": [16, 24],
  aes: [16, 24, 32],
  sm4: [16],
};

type Mode = "ecb" | "cbc";

/** OpenSSL algorithm name and the key to hand it (DES keys are doubled). */
function openssl(name: CipherName, key: Bytes, mode: Mode): { alg: string; key: Bytes; temp: boolean } {
  const n = key.length;
  if (!KEY_LENGTHS[name].includes(n)) {
    throw new RangeError(`${name} key must be ${KEY_LENGTHS[name].join(" or ")} bytes, got ${n}`);
  }
  switch (name) {
    case "des": {
      const kk = new Uint8Array(16);
      kk.set(key, 0);
      kk.set(key, 8);
      return { alg: mode === "ecb" ? "des-ede-ecb" : "des-ede-cbc", key: kk, temp: true };
    }
    case "3des":
      if (n === 16) return { alg: mode === "ecb" ? "des-ede-ecb" : "des-ede-cbc", key, temp: false };
      return { alg: mode === "ecb" ? "des-ede3-ecb" : "des-ede3-cbc", key, temp: false };
    case "aes":
      return { alg: `aes-${n * 8}-${mode}`, key, temp: false };
    case "sm4":
      return { alg: `sm4-${mode}`, key, temp: false };
  }
}

function run(name: CipherName, key: Bytes, iv: Bytes | null, data: Bytes, encrypt: boolean): Bytes {
  const bs = BLOCK_SIZE[name];
  if (data.length % bs !== 0) {
    throw new RangeError(`${name} data must be a multiple of ${bs} bytes, got ${data.length}`);
  }
  if (iv !== null && iv.length !== bs)
    throw new RangeError(`${name} IV must be ${bs} bytes, got ${iv.length}`);
  const o = openssl(name, key, iv === null ? "ecb" : "cbc");
  try {
    const c = encrypt ? createCipheriv(o.alg, o.key, iv) : createDecipheriv(o.alg, o.key, iv);
    c.setAutoPadding(false);
    const out = c.update(data);
    c.final();
    return plain(out);
  } finally {
    if (o.temp) o.key.fill(0);
  }
}

export function ecbEncrypt(name: CipherName, key: Bytes, data: Bytes): Bytes {
  return run(name, key, null, data, true);
}

export function ecbDecrypt(name: CipherName, key: Bytes, data: Bytes): Bytes {
  return run(name, key, null, data, false);
}

export function cbcEncrypt(name: CipherName, key: Bytes, iv: Bytes, data: Bytes): Bytes {
  return run(name, key, iv, data, true);
}

export function cbcDecrypt(name: CipherName, key: Bytes, iv: Bytes, data: Bytes): Bytes {
  return run(name, key, iv, data, false);
}

function checkBlock(name: CipherName, block: Bytes): Bytes {
  if (block.length !== BLOCK_SIZE[name]) {
    throw new RangeError(`${name} block must be ${BLOCK_SIZE[name]} bytes, got ${block.length}`);
  }
  return block;
}

const CIPHERS: Readonly<Record<CipherName, BlockCipher>> = Object.fromEntries(
  (Object.keys(BLOCK_SIZE) as CipherName[]).map((name) => [
    name,
    Object.freeze({
      name,
      blockSize: BLOCK_SIZE[name],
      encryptBlock: (key: Bytes, block: Bytes) => ecbEncrypt(name, key, checkBlock(name, block)),
      decryptBlock: (key: Bytes, block: Bytes) => ecbDecrypt(name, key, checkBlock(name, block)),
    }),
  ]),
) as Record<CipherName, BlockCipher>;

export function cipher(name: CipherName): BlockCipher {
  const c = CIPHERS[name];
  if (c === undefined) throw new RangeError(`unknown cipher "${String(name)}"`);
  return c;
}
