/**
 * The SE's non-volatile memory and its atomic transactions.
 *
 * `Nvm` models EEPROM/flash as cells (namespace, key) → JSON text, plus a journal area. A physical write is
 * one cell programmed, one journal record appended, the commit record set, or the journal erased. Commit
 * protocol for one transaction of n buffered writes (2n + 2 physical writes):
 *
 *   1. append the n writes to the journal        (n writes)
 *   2. set the commit record                     (1 write)   ← the transaction is durable from here
 *   3. apply the n writes to their cells          (n writes)
 *   4. erase the journal                         (1 write)
 *
 * Recovery at power-up replays a committed journal (step 3 is idempotent) and drops an uncommitted one, so
 * after any power cut the cells hold exactly the state before or after the transaction.
 *
 * Fault injection: `cutPowerAfterWrites(n)` lets n more physical writes land and cuts the power right after
 * the n-th (it throws `PowerCut` once it landed); with n = 0 the power fails at the next write attempt and
 * nothing lands. The SE turns a `PowerCut` into "no response" and must be rebooted (`recover()`).
 */
import type { AppletStore, Json } from "./applet.js";

/** The power failed during an NVM write (fault injection). Thrown inside the SE only; never leaves it. */
export class PowerCut extends Error {
  constructor() {
    super("power cut during an NVM write (fault injection)");
    this.name = "PowerCut";
  }
}

/** One journaled write: namespace, key, JSON text (null deletes the cell). */
export type JournalEntry = readonly [namespace: string, key: string, text: string | null];

/** The NVM as plain JSON (what the SE file holds). */
export interface NvmImage {
  cells: Record<string, Record<string, Json>>;
  /** A journal left by a power cut (recovered at the next power-up), or null. */
  journal: { entries: [string, string, Json | null][]; committed: boolean } | null;
}

/** Cell contents as JSON text per namespace and key: what tests compare before and after a command. */
export type NvmSnapshot = Record<string, Record<string, string>>;

export type RecoveryOutcome = "clean" | "replayed" | "dropped";

export class Nvm {
  private readonly cells = new Map<string, Map<string, string>>();
  private journal: JournalEntry[] = [];
  private committed = false;
  private writeCount = 0;
  /** Writes that may still land before the injected power cut, or null when none is armed. */
  private cutIn: number | null = null;

  /** Physical writes since this NVM was created or loaded. */
  get writes(): number {
    return this.writeCount;
  }

  /** Arms a power cut: `n` more physical writes land, then the power fails (see the module comment). */
  cutPowerAfterWrites(n: number): void {
    if (!Number.isInteger(n) || n < 0)
      throw new RangeError(`write count must be a non-negative integer, got ${n}`);
    this.cutIn = n;
  }

  /** Disarms a pending power cut. */
  cancelPowerCut(): void {
    this.cutIn = null;
  }

  get powerCutArmed(): boolean {
    return this.cutIn !== null;
  }

  /** Whether a journal is waiting for recovery (only after a power cut). */
  get journalPending(): boolean {
    return this.journal.length > 0 || this.committed;
  }

  read(namespace: string, key: string): string | undefined {
    return this.cells.get(namespace)?.get(key);
  }

  /** Keys of a namespace that start with `prefix`, in insertion order. */
  keys(namespace: string, prefix = ""): string[] {
    const ns = this.cells.get(namespace);
    if (!ns) return [];
    const out: string[] = [];
    for (const k of ns.keys()) if (k.startsWith(prefix)) out.push(k);
    return out;
  }

  namespaces(): string[] {
    return [...this.cells.keys()];
  }

  /** Makes a batch of writes durable with the journal protocol (all land or none after recovery). */
  commit(entries: readonly JournalEntry[]): void {
    if (entries.length === 0) return;
    for (const e of entries) this.physicalWrite(() => this.journal.push(e));
    this.physicalWrite(() => (this.committed = true));
    for (const e of entries) this.physicalWrite(() => this.apply(e));
    this.physicalWrite(() => this.eraseJournal());
  }

  /** Power-up recovery: replays a committed journal, drops an uncommitted one. */
  recover(): RecoveryOutcome {
    if (!this.journalPending) return "clean";
    if (this.committed) {
      for (const e of this.journal) this.physicalWrite(() => this.apply(e));
      this.physicalWrite(() => this.eraseJournal());
      return "replayed";
    }
    this.physicalWrite(() => this.eraseJournal());
    return "dropped";
  }

  snapshot(): NvmSnapshot {
    const out: NvmSnapshot = {};
    for (const [ns, m] of this.cells) out[ns] = Object.fromEntries(m);
    return out;
  }

  toImage(): NvmImage {
    const cells: NvmImage["cells"] = {};
    for (const ns of [...this.cells.keys()].sort()) {
      const m = this.cells.get(ns)!;
      const o: Record<string, Json> = {};
      for (const k of [...m.keys()].sort()) o[k] = JSON.parse(m.get(k)!) as Json;
      cells[ns] = o;
    }
    const journal = this.journalPending
      ? {
          entries: this.journal.map(([ns, k, t]): [string, string, Json | null] => [
            ns,
            k,
            t === null ? null : (JSON.parse(t) as Json),
          ]),
          committed: this.committed,
        }
      : null;
    return { cells, journal };
  }

  /** Rebuilds an NVM from its image (the journal, if any, stays pending until `recover()`). */
  static fromImage(image: NvmImage): Nvm {
    const nvm = new Nvm();
    for (const [ns, m] of Object.entries(image.cells)) {
      const cells = new Map<string, string>();
      for (const [k, v] of Object.entries(m)) cells.set(k, JSON.stringify(v));
      nvm.cells.set(ns, cells);
    }
    if (image.journal) {
      nvm.journal = image.journal.entries.map(([ns, k, v]) => [ns, k, v === null ? null : JSON.stringify(v)]);
      nvm.committed = image.journal.committed;
    }
    return nvm;
  }

  private physicalWrite(program: () => void): void {
    if (this.cutIn === 0) {
      this.cutIn = null;
      throw new PowerCut();
    }
    program();
    this.writeCount++;
    if (this.cutIn !== null && --this.cutIn === 0) {
      this.cutIn = null;
      throw new PowerCut();
    }
  }

  private apply([ns, key, text]: JournalEntry): void {
    let m = this.cells.get(ns);
    if (text === null) {
      m?.delete(key);
      if (m && m.size === 0) this.cells.delete(ns);
      return;
    }
    if (!m) this.cells.set(ns, (m = new Map()));
    m.set(key, text);
  }

  private eraseJournal(): void {
    this.journal = [];
    this.committed = false;
  }
}

/**
 * The writes of one command, buffered until it ends. Reads see the command's own writes. `commit()` hands
 * them to the NVM journal; dropping the transaction is the rollback.
 */
export class Transaction {
  private readonly buffer = new Map<string, Map<string, string | null>>();

  constructor(private readonly nvm: Nvm) {}

  getText(namespace: string, key: string): string | undefined {
    const b = this.buffer.get(namespace);
    if (b?.has(key)) return b.get(key) ?? undefined;
    return this.nvm.read(namespace, key);
  }

  get<T extends Json = Json>(namespace: string, key: string): T | undefined {
    const text = this.getText(namespace, key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  put(namespace: string, key: string, value: Json): void {
    const text = JSON.stringify(value) as string | undefined;
    if (text === undefined) throw new TypeError(`store value for "${key}" is not JSON`);
    this.slot(namespace).set(key, text);
  }

  delete(namespace: string, key: string): void {
    const b = this.buffer.get(namespace);
    if (this.nvm.read(namespace, key) === undefined) {
      b?.delete(key);
      return;
    }
    this.slot(namespace).set(key, null);
  }

  /** Keys with `prefix` in a namespace, the command's own writes included, sorted. */
  keys(namespace: string, prefix = ""): string[] {
    const set = new Set(this.nvm.keys(namespace, prefix));
    const b = this.buffer.get(namespace);
    if (b)
      for (const [k, t] of b) {
        if (!k.startsWith(prefix)) continue;
        if (t === null) set.delete(k);
        else set.add(k);
      }
    return [...set].sort();
  }

  /** Deletes every key of a namespace. */
  clear(namespace: string): void {
    for (const k of this.keys(namespace)) this.delete(namespace, k);
  }

  /** Whether this transaction wrote to `namespace` (or to anything when omitted). */
  touched(namespace?: string): boolean {
    if (namespace === undefined) {
      for (const b of this.buffer.values()) if (b.size > 0) return true;
      return false;
    }
    return (this.buffer.get(namespace)?.size ?? 0) > 0;
  }

  commit(): void {
    const entries: JournalEntry[] = [];
    for (const [ns, b] of this.buffer) for (const [k, t] of b) entries.push([ns, k, t]);
    this.buffer.clear();
    this.nvm.commit(entries);
  }

  private slot(namespace: string): Map<string, string | null> {
    let b = this.buffer.get(namespace);
    if (!b) this.buffer.set(namespace, (b = new Map()));
    return b;
  }
}

/** An applet's view of the transaction: its own namespace only. */
export function appletStore(txn: Transaction, namespace: string): AppletStore {
  return {
    get: <T extends Json = Json>(key: string) => txn.get<T>(namespace, key),
    put: (key, value) => txn.put(namespace, key, value),
    delete: (key) => txn.delete(namespace, key),
    keys: (prefix) => txn.keys(namespace, prefix),
  };
}
