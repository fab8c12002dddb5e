/**
 * The browser as the phone: its device key pair and secure-element id, kept in IndexedDB. The private key
 * is a non-extractable WebCrypto key (it can sign, it cannot be read back out, not even by this app), the
 * way a phone keeps its key in the keystore. One record per account: a browser signed in as another
 * account is another phone to the cloud.
 */
import { toBase64, type RequestSigner } from "../api/signing.js";
import type { DeviceView } from "../api/types.js";

export interface LocalPhone {
  accountId: string;
  deviceId: string;
  seId: string;
  privateKey: CryptoKey;
  /** The cloud's view at the last contact. */
  device: DeviceView;
}

export interface NewKey {
  privateKey: CryptoKey;
  /** base64 SPKI DER, as the cloud takes it at binding. */
  publicKey: string;
}

const DB_NAME = "tapwallet-phone";
const STORE = "phones";

/** WebCrypto needs a secure context (https, or http on localhost / 127.0.0.1). */
export function cryptoAvailable(): boolean {
  return typeof crypto !== "undefined" && crypto.subtle !== undefined && window.isSecureContext;
}

export async function generateDeviceKey(): Promise<NewKey> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
    "sign",
    "verify",
  ]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey: toBase64(spki) };
}

/** A 16-byte secure element id, upper-case hex (the cloud's form). */
export function newSeId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0"))
    .join("")
    .toUpperCase();
}

export function webCryptoSigner(privateKey: CryptoKey): RequestSigner {
  return {
    async sign(data) {
      const sig = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, data);
      return new Uint8Array(sig);
    },
    async sha256(data) {
      return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
    },
    randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
  };
}

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "accountId" });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error("indexedDB open failed"));
  });
}

async function withStore<T>(mode: IDBTransactionMode, op: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = op(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error ?? new Error("indexedDB transaction failed"));
      tx.onabort = () => reject(tx.error ?? new Error("indexedDB transaction aborted"));
    });
  } finally {
    db.close();
  }
}

export async function loadPhone(accountId: string): Promise<LocalPhone | undefined> {
  const found = await withStore<LocalPhone | undefined>(
    "readonly",
    (s) => s.get(accountId) as IDBRequest<LocalPhone | undefined>,
  );
  return found ?? undefined;
}

export async function savePhone(phone: LocalPhone): Promise<void> {
  await withStore("readwrite", (s) => s.put(phone));
}

export async function forgetPhone(accountId: string): Promise<void> {
  await withStore("readwrite", (s) => s.delete(accountId));
}
