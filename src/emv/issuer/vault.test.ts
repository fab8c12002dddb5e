/** The token vault: funding PANs only encrypted, bound to their token, found by keyed fingerprint. */
import { describe, expect, it } from "vitest";
import { fromHex } from "../../core/bytes.js";
import { seededRandom } from "../../se/testing/random.js";
import { TokenVault } from "./vault.js";

const PAN = "6222021234567890124";
const vault = () => new TokenVault(fromHex("11".repeat(32)), seededRandom(3));

describe("TokenVault", () => {
  it("round-trips a PAN and never stores it in the clear", () => {
    const v = vault();
    const sealed = v.seal(PAN, "6299770000000018");
    expect(JSON.stringify(sealed)).not.toContain(PAN.slice(0, 8));
    expect(v.open(sealed, "6299770000000018")).toEqual({ ok: true, value: PAN });
  });

  it("refuses a ciphertext moved to another token, a tampered one, or another vault key", () => {
    const v = vault();
    const sealed = v.seal(PAN, "6299770000000018");
    expect(v.open(sealed, "6299770000000026").ok).toBe(false);
    const tampered = { ...sealed, data: (sealed.data[0] === "0" ? "1" : "0") + sealed.data.slice(1) };
    expect(v.open(tampered, "6299770000000018").ok).toBe(false);
    const other = new TokenVault(fromHex("22".repeat(32)), seededRandom(3));
    const r = other.open(sealed, "6299770000000018");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).not.toContain(PAN);
  });

  it("fingerprints a PAN with the vault's key only", () => {
    expect(vault().fingerprint(PAN)).toBe(vault().fingerprint(PAN));
    expect(vault().fingerprint(PAN)).not.toBe(
      new TokenVault(fromHex("22".repeat(32)), seededRandom(3)).fingerprint(PAN),
    );
    expect(vault().fingerprint(PAN)).toMatch(/^[0-9A-F]{64}$/);
  });
});
