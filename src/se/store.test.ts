import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type JournalEntry, Nvm, PowerCut, Transaction, appletStore } from "./store.js";

const put = (ns: string, key: string, value: unknown): JournalEntry => [ns, key, JSON.stringify(value)];

describe("Nvm journal", () => {
  it("commits n writes with 2n + 2 physical writes and leaves no journal", () => {
    const nvm = new Nvm();
    nvm.commit([put("a", "x", 1), put("a", "y", 2), put("b", "z", "three")]);
    expect(nvm.writes).toBe(8);
    expect(nvm.journalPending).toBe(false);
    expect(nvm.snapshot()).toEqual({ a: { x: "1", y: "2" }, b: { z: '"three"' } });
  });

  it("cutPowerAfterWrites(0) fails the first write and nothing lands", () => {
    const nvm = new Nvm();
    nvm.cutPowerAfterWrites(0);
    expect(() => nvm.commit([put("a", "x", 1)])).toThrow(PowerCut);
    expect(nvm.writes).toBe(0);
    expect(nvm.journalPending).toBe(false);
    expect(nvm.recover()).toBe("clean");
  });

  it("cutPowerAfterWrites(n) lets exactly n writes land, then cuts once", () => {
    const nvm = new Nvm();
    nvm.cutPowerAfterWrites(2);
    expect(() => nvm.commit([put("a", "x", 1), put("a", "y", 2)])).toThrow(PowerCut);
    expect(nvm.writes).toBe(2);
    expect(nvm.powerCutArmed).toBe(false);
    expect(nvm.journalPending).toBe(true);
    // uncommitted journal (2 entries, no commit record): dropped
    expect(nvm.recover()).toBe("dropped");
    expect(nvm.snapshot()).toEqual({});
  });

  it("replays a committed journal whose cells were only partly written", () => {
    const nvm = new Nvm();
    nvm.commit([put("a", "x", 0)]);
    // 3 journal entries + commit record + the first of 3 cells = 5 writes
    nvm.cutPowerAfterWrites(5);
    expect(() => nvm.commit([put("a", "x", 1), ["a", "gone", null], put("a", "y", 2)])).toThrow(PowerCut);
    expect(nvm.snapshot()).toEqual({ a: { x: "1" } });
    expect(nvm.recover()).toBe("replayed");
    expect(nvm.snapshot()).toEqual({ a: { x: "1", y: "2" } });
    expect(nvm.journalPending).toBe(false);
  });

  it("keeps a pending journal through its image", () => {
    const nvm = new Nvm();
    nvm.commit([put("a", "x", 0)]);
    nvm.cutPowerAfterWrites(2);
    expect(() => nvm.commit([put("a", "x", 5)])).toThrow(PowerCut);
    const image = nvm.toImage();
    expect(image.journal).toEqual({ entries: [["a", "x", 5]], committed: true });
    const back = Nvm.fromImage(JSON.parse(JSON.stringify(image)));
    expect(back.recover()).toBe("replayed");
    expect(back.snapshot()).toEqual({ a: { x: "5" } });
  });

  it("rejects a negative cut count", () => {
    expect(() => new Nvm().cutPowerAfterWrites(-1)).toThrow(RangeError);
  });

  it("every cut point of a random batch recovers to exactly before or after (property)", () => {
    const entry = fc.tuple(
      fc.constantFrom("a", "b"),
      fc.constantFrom("k1", "k2", "k3", "k4"),
      fc.option(fc.integer(), { nil: null }),
    );
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 4 }),
        fc.array(entry, { minLength: 1, maxLength: 6 }),
        (seed, batch) => {
          const write = (nvm: Nvm, entries: typeof batch) => {
            const t = new Transaction(nvm);
            for (const [ns, k, v] of entries) {
              if (v === null) t.delete(ns, k);
              else t.put(ns, k, v);
            }
            t.commit();
          };
          const setup = () => {
            const nvm = new Nvm();
            write(nvm, seed);
            return nvm;
          };
          const apply = (nvm: Nvm) => write(nvm, batch);
          const ref = setup();
          const before = ref.snapshot();
          const w0 = ref.writes;
          apply(ref);
          const after = ref.snapshot();
          const total = ref.writes - w0;
          for (let k = 0; k <= total; k++) {
            const nvm = setup();
            nvm.cutPowerAfterWrites(k);
            try {
              apply(nvm);
            } catch (e) {
              expect(e).toBeInstanceOf(PowerCut);
            }
            nvm.cancelPowerCut();
            nvm.recover();
            const s = nvm.snapshot();
            expect([before, after]).toContainEqual(s);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("Transaction", () => {
  it("reads its own writes, buffers until commit and rolls back by being dropped", () => {
    const nvm = new Nvm();
    const t = new Transaction(nvm);
    t.put("app", "a", { n: 1 });
    expect(t.get("app", "a")).toEqual({ n: 1 });
    expect(nvm.read("app", "a")).toBeUndefined();
    expect(nvm.writes).toBe(0);
    // dropped without commit: nothing happened
    expect(new Transaction(nvm).get("app", "a")).toBeUndefined();
    t.commit();
    expect(new Transaction(nvm).get("app", "a")).toEqual({ n: 1 });
  });

  it("merges buffered writes and deletions into keys()", () => {
    const nvm = new Nvm();
    const t0 = new Transaction(nvm);
    t0.put("ns", "p:1", 1);
    t0.put("ns", "p:2", 2);
    t0.put("ns", "q", 3);
    t0.commit();
    const t = new Transaction(nvm);
    t.delete("ns", "p:1");
    t.put("ns", "p:3", 3);
    expect(t.keys("ns", "p:")).toEqual(["p:2", "p:3"]);
    expect(t.touched("ns")).toBe(true);
    expect(t.touched("other")).toBe(false);
  });

  it("does not journal the deletion of a key that never existed", () => {
    const nvm = new Nvm();
    const t = new Transaction(nvm);
    t.put("ns", "x", 1);
    t.delete("ns", "x");
    t.delete("ns", "y");
    expect(t.touched()).toBe(false);
    t.commit();
    expect(nvm.writes).toBe(0);
  });

  it("clear() deletes a whole namespace", () => {
    const nvm = new Nvm();
    const t0 = new Transaction(nvm);
    t0.put("app:1", "a", 1);
    t0.put("app:1", "b", 2);
    t0.put("app:2", "a", 1);
    t0.commit();
    const t = new Transaction(nvm);
    t.clear("app:1");
    t.commit();
    expect(nvm.snapshot()).toEqual({ "app:2": { a: "1" } });
  });

  it("refuses values that are not JSON", () => {
    const store = appletStore(new Transaction(new Nvm()), "x");
    expect(() => store.put("f", (() => 1) as never)).toThrow(TypeError);
  });
});
