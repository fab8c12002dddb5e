/**
 * A local issuer for demos and the `pos` command: the issuer host with an in-memory store, its master keys,
 * vault key and state kept together in one JSON file. That file holds secret keys in the clear — it is a
 * development convenience, written with mode 0600; the cloud keeps keys in its key store and state in its
 * database instead.
 *
 *   {"format": "tapwallet.issuer/1", "tokenBin": "629977", "dki": 1,
 *    "keys": {"3des": HEX16, "sm4": HEX16}, "vaultKey": HEX32,
 *    "state": {tokens, accounts, authorisations, clearings}}     (clearings: absent in older files)
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { type Bytes, fromHex, isHex, toHex } from "../../core/bytes.js";
import type { Clock } from "../../core/clock.js";
import { TapwalletError } from "../../core/errors.js";
import { demoIssuerPki } from "../pki/issuer-pki.js";
import { IssuerHost, StaticIssuerKeys } from "./host.js";
import { type IssuerSnapshot, MemoryIssuerStore } from "./store.js";
import { TokenVault } from "./vault.js";

const ISSUER_FILE_FORMAT = "tapwallet.issuer/1";
/** Decision "QuickPass: token BIN": Tapwallet's test token range (not a real UnionPay BIN). */
export const DEMO_TOKEN_BIN = "629977";

export interface IssuerFile {
  format: typeof ISSUER_FILE_FORMAT;
  tokenBin: string;
  dki: number;
  keys: { "3des": string; sm4: string };
  vaultKey: string;
  state: IssuerSnapshot;
}

export interface LocalIssuer {
  host: IssuerHost;
  store: MemoryIssuerStore;
  /** The file's content now (state included). */
  toFile(): IssuerFile;
}

function open(file: IssuerFile, clock: Clock, random: (n: number) => Bytes): LocalIssuer {
  const store = new MemoryIssuerStore(file.state);
  const keys = new StaticIssuerKeys(
    file.dki,
    new Map([
      [StaticIssuerKeys.id(file.dki, "3des"), fromHex(file.keys["3des"])],
      [StaticIssuerKeys.id(file.dki, "sm4"), fromHex(file.keys.sm4)],
    ]),
  );
  const vault = new TokenVault(fromHex(file.vaultKey), random);
  const host = new IssuerHost({
    store,
    keys,
    vault,
    clock,
    random,
    tokenBin: file.tokenBin,
    pki: demoIssuerPki(file.tokenBin),
  });
  return { host, store, toFile: () => ({ ...file, state: store.snapshot() }) };
}

/** A new local issuer with fresh random keys. */
export function createLocalIssuer(clock: Clock, random: (n: number) => Bytes): LocalIssuer {
  return open(
    {
      format: ISSUER_FILE_FORMAT,
      tokenBin: DEMO_TOKEN_BIN,
      dki: 1,
      keys: { "3des": toHex(random(16)), sm4: toHex(random(16)) },
      vaultKey: toHex(random(32)),
      state: { tokens: [], accounts: [], authorisations: [] },
    },
    clock,
    random,
  );
}

function invalid(path: string, what: string): TapwalletError {
  return new TapwalletError(
    "issuer_file_invalid",
    `发卡行文件 ${path} 无效：${what}`,
    `issuer file ${path} is invalid: ${what}`,
  );
}

/** Loads a local issuer file; a missing or malformed file is a `TapwalletError`. */
export function loadLocalIssuer(path: string, clock: Clock, random: (n: number) => Bytes): LocalIssuer {
  if (!existsSync(path))
    throw new TapwalletError("issuer_file_missing", `找不到发卡行文件 ${path}`, `no issuer file at ${path}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw invalid(path, (e as Error).message);
  }
  const f = json as Partial<IssuerFile>;
  const hex = (v: unknown, len: number) => typeof v === "string" && isHex(v) && v.length === len * 2;
  if (typeof json !== "object" || json === null || f.format !== ISSUER_FILE_FORMAT)
    throw invalid(path, "format");
  if (typeof f.tokenBin !== "string" || !/^\d{6,8}$/.test(f.tokenBin) || !Number.isInteger(f.dki))
    throw invalid(path, "tokenBin / dki");
  if (!f.keys || !hex(f.keys["3des"], 16) || !hex(f.keys.sm4, 16) || !hex(f.vaultKey, 32))
    throw invalid(path, "keys");
  const s = f.state;
  if (!s || !Array.isArray(s.tokens) || !Array.isArray(s.accounts) || !Array.isArray(s.authorisations))
    throw invalid(path, "state");
  if (s.clearings !== undefined && !Array.isArray(s.clearings)) throw invalid(path, "state");
  return open(f as IssuerFile, clock, random);
}

export function saveLocalIssuer(path: string, issuer: LocalIssuer): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(issuer.toFile(), null, 1), { mode: 0o600 });
  renameSync(tmp, path);
}
