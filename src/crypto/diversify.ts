/**
 * Master-key diversification: EMV Book 2 A1.4 option A and option B (issuer master key → ICC master key, the
 * PBOC "UDK"), and the PBOC/JR/T 0025 e-purse form `DK = 3DES_MK(F) ‖ 3DES_MK(~F)` (card keys from the card's
 * application serial number, or a group factor one level up).
 */
import { createHash } from "node:crypto";
import { type Bytes, fromHex } from "../core/bytes.js";
import { ecbEncrypt } from "./cipher.js";
import { sm4DiversificationBlock } from "./sm4-pboc.js";

/** Sets each byte's least significant bit so that the byte has an odd number of ones (DES key parity). */
export function adjustParity(key: Bytes): Bytes {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) {
    const b = key[i]! & 0xfe;
    let ones = b;
    ones ^= ones >> 4;
    ones ^= ones >> 2;
    ones ^= ones >> 1;
    out[i] = b | (~ones & 1);
  }
  return out;
}

function checkDigits(what: string, s: string, min: number, max: number): void {
  if (!/^\d*$/.test(s) || s.length < min || s.length > max) {
    // The value itself is not quoted: it may be a PAN.
    throw new RangeError(`${what} must be ${min}–${max} decimal digits (got ${s.length} characters)`);
  }
}

/** The two 8-byte blocks F ‖ F ⊕ FF…FF that the 3DES forms encrypt. */
function withComplement(f: Bytes): Bytes {
  const block = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    block[i] = f[i]!;
    block[8 + i] = ~f[i]! & 0xff;
  }
  return block;
}

/** 3DES_IMK(Y ‖ Y ⊕ FF…FF), odd parity: the common last step of options A and B. */
function fromY(imk: Bytes, y: Bytes): Bytes {
  const mk = ecbEncrypt("3des", imk, withComplement(y));
  const out = adjustParity(mk);
  mk.fill(0);
  return out;
}

/**
 * EMV option A: Y = the rightmost 16 digits of PAN ‖ PSN (left-padded with zeros), MK = 3DES_IMK(Y) ‖
 * 3DES_IMK(Y ⊕ FF…FF), parity-adjusted (as pyemv and PBOC issuers do). `psn` is 2 digits ("00" if absent).
 */
export function emvOptionA(imk: Bytes, pan: string, psn = "00"): Bytes {
  checkDigits("PAN", pan, 1, 19);
  checkDigits("PSN", psn, 2, 2);
  return fromY(imk, fromHex((pan + psn).slice(-16).padStart(16, "0")));
}

/**
 * EMV option B (PANs of 17–19 digits; for 16 or fewer it is option A): X = PAN ‖ PSN (a leading 0 if odd),
 * Y = the first 16 decimal digits of SHA-1(X) in hex, topped up if needed with its letters A–F as 0–5.
 */
export function emvOptionB(imk: Bytes, pan: string, psn = "00"): Bytes {
  checkDigits("PAN", pan, 1, 19);
  checkDigits("PSN", psn, 2, 2);
  if (pan.length <= 16) return emvOptionA(imk, pan, psn);
  const x = pan.length % 2 === 1 ? "0" + pan + psn : pan + psn;
  const digest = createHash("sha1").update(fromHex(x)).digest("hex");
  let y = digest.replace(/[a-f]/g, "").slice(0, 16);
  if (y.length < 16) {
    const letters = digest.replace(/\d/g, "").replace(/[a-f]/g, (c) => String(c.charCodeAt(0) - 97));
    y += letters.slice(0, 16 - y.length);
  }
  return fromY(imk, fromHex(y));
}

/**
 * PBOC / JR/T 0025 diversification of one level: 3DES: `3DES_MK(F) ‖ 3DES_MK(~F)` (16-byte result, no parity
 * adjustment — DES ignores those bits). SM4: `SM4_MK(F ‖ ~F)`, our choice (see sm4-pboc.ts).
 */
export function pbocDiversify(masterKey: Bytes, factor8: Bytes, name: "3des" | "sm4" = "3des"): Bytes {
  if (factor8.length !== 8)
    throw new RangeError(`diversification factor must be 8 bytes, got ${factor8.length}`);
  const block = name === "sm4" ? sm4DiversificationBlock(factor8) : withComplement(factor8);
  try {
    return ecbEncrypt(name, masterKey, block);
  } finally {
    block.fill(0);
  }
}
