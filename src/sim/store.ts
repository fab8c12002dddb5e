/**
 * Where the simulator keeps the phones' side of the world, on the simulator's disk (never in the cloud):
 *
 *   DATA_DIR/phones/<id>/        one virtual phone per folder (src/device state directory: phone.json, its
 *                                device key, and se.json — each phone's SE in its own file, its own trust
 *                                domain), plus sim.json: which account made it, and what its last sync said
 *   DATA_DIR/terminals/          the simulated terminals' own state: the POS's trace number, the door
 *                                reader's enrolled cards per account
 *
 * The cloud holds no state outside its database; these files are the phones and terminals, which in the real
 * world live in people's pockets and on station walls. Folders are 0700 and files 0600, written atomically.
 * One operation at a time per phone (its SE is opened, used and saved under a lock in this process).
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { TapwalletError } from "../core/errors.js";
import { writeFileAtomic } from "../device/state.js";

export const SIM_PHONE_FORMAT = "tapwallet.sim-phone/1";
const SIM_FILE = "sim.json";
const PHONE_ID = /^sim_[0-9a-f]{16}$/;

export interface SimPhoneRecord {
  format: typeof SIM_PHONE_FORMAT;
  id: string;
  /** The cloud account that made this phone (only its sessions reach it). */
  owner: string;
  createdAt: string;
  /** What the phone learned at its last sync. */
  lastSync: { at: string; outcome: string; lost: boolean } | null;
}

function phoneNotFound(): TapwalletError {
  return new TapwalletError("sim_phone_not_found", "模拟手机不存在", "No such simulated phone");
}

const isRecord = (v: unknown): v is SimPhoneRecord => {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return (
    o["format"] === SIM_PHONE_FORMAT &&
    typeof o["id"] === "string" &&
    typeof o["owner"] === "string" &&
    typeof o["createdAt"] === "string"
  );
};

export class SimStore {
  readonly phonesRoot: string;
  readonly terminalsRoot: string;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(readonly dataDir: string) {
    this.phonesRoot = join(dataDir, "phones");
    this.terminalsRoot = join(dataDir, "terminals");
  }

  private ensure(dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  phoneDir(id: string): string {
    if (!PHONE_ID.test(id)) throw phoneNotFound();
    return join(this.phonesRoot, id);
  }

  newPhoneId(): string {
    return `sim_${randomBytes(8).toString("hex")}`;
  }

  /** The record of a phone the account owns (anyone else's is "not found", as an unknown id is). */
  record(id: string, owner: string): SimPhoneRecord {
    const path = join(this.phoneDir(id), SIM_FILE);
    if (!existsSync(path)) throw phoneNotFound();
    let v: unknown;
    try {
      v = JSON.parse(readFileSync(path, "utf8"));
    } catch {
      throw phoneNotFound();
    }
    if (!isRecord(v) || v.id !== id || v.owner !== owner) throw phoneNotFound();
    return v;
  }

  writeRecord(r: SimPhoneRecord): void {
    const dir = this.phoneDir(r.id);
    this.ensure(dir);
    writeFileAtomic(join(dir, SIM_FILE), JSON.stringify(r, null, 1) + "\n");
  }

  /** The account's phones, oldest first. */
  list(owner: string): SimPhoneRecord[] {
    if (!existsSync(this.phonesRoot)) return [];
    const out: SimPhoneRecord[] = [];
    for (const id of readdirSync(this.phonesRoot)) {
      if (!PHONE_ID.test(id)) continue;
      try {
        out.push(this.record(id, owner));
      } catch {
        // Another account's phone, or a folder without a record: not listed.
      }
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  remove(id: string): void {
    rmSync(this.phoneDir(id), { recursive: true, force: true });
  }

  /** Runs `fn` with no other operation on the same phone (or terminal key) in between. */
  async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }

  // ---- terminals -------------------------------------------------------------------------------

  readTerminalFile<T>(name: string, fallback: T): T {
    const path = join(this.terminalsRoot, name);
    if (!existsSync(path)) return fallback;
    try {
      return JSON.parse(readFileSync(path, "utf8")) as T;
    } catch {
      return fallback;
    }
  }

  writeTerminalFile(name: string, value: unknown): void {
    this.ensure(this.terminalsRoot);
    writeFileAtomic(join(this.terminalsRoot, name), JSON.stringify(value) + "\n");
  }
}
