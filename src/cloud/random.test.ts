import { describe, expect, it } from "vitest";
import { randomDigits, randomId, randomToken, seededRng, systemRng } from "./random.js";

describe("cloud randomness", () => {
  it("seeded streams repeat exactly; different seeds differ", () => {
    const a = seededRng("s");
    const b = seededRng("s");
    expect(Buffer.from(a.bytes(100))).toEqual(Buffer.from(b.bytes(100)));
    expect(Buffer.from(seededRng("t").bytes(32))).not.toEqual(Buffer.from(seededRng("s").bytes(32)));
  });

  it("ids, tokens and digit codes have their shapes", () => {
    expect(randomId(systemRng, "dev")).toMatch(/^dev_[0-9a-f]{24}$/);
    expect(randomToken(systemRng, "tws")).toMatch(/^tws_[A-Za-z0-9_-]{43}$/);
    expect(randomDigits(systemRng, 6)).toMatch(/^\d{6}$/);
  });

  it("draws every digit equally often (rejection sampling, no modulo bias)", () => {
    const rng = seededRng("digits");
    const n = 600_000;
    let low = 0; // digits 0–5
    for (let i = 0; i < n / 6; i++) for (const d of randomDigits(rng, 6)) if (d < "6") low++;
    // Uniform: 0.6·n = 360,000 (σ ≈ 380). `byte % 10` would favour 0–5 (26/256 each): ≈ 365,600.
    expect(Math.abs(low - 0.6 * n)).toBeLessThan(1_500);
  });
});
