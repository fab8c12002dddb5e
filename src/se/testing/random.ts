/**
 * A deterministic byte source for tests and benchmarks (sfc32): the same seed gives the same bytes, so an
 * SE's card challenges, UIDs and applets' `ctx.random` repeat from run to run. Never for real keys.
 */
import type { Bytes } from "../../core/bytes.js";

export function seededRandom(seed: number): (length: number) => Bytes {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88;
  let c = 0xb7e15162;
  let d = seed >>> 0;
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next();
  return (length: number) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      const v = next();
      for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = (v >>> (8 * j)) & 0xff;
    }
    return out;
  };
}
