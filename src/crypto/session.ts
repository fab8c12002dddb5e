/**
 * Per-transaction session keys: EMV (common session key, the EMV 2000 tree, Visa secure messaging), PBOC/UICS
 * application cryptogram keys, and the PBOC e-purse process keys for load, purchase and TAC.
 */
import { type Bytes, uintBE } from "../core/bytes.js";
import { ecbEncrypt } from "./cipher.js";
import { adjustParity } from "./diversify.js";
import { sm4SessionKeyInput, sm4TacKey } from "./sm4-pboc.js";

/** Which block cipher an e-purse key set uses (the card's "algorithm identifier": 00 = 3DES). */
export type EpurseAlgorithm = "3des" | "sm4";

function need(what: string, b: Bytes, len: number): void {
  if (b.length !== len) throw new RangeError(`${what} must be ${len} bytes, got ${b.length}`);
}

function atcBytes(atc: number): Bytes {
  if (!Number.isInteger(atc) || atc < 0 || atc > 0xffff)
    throw new RangeError(`ATC must be 0–65535, got ${atc}`);
  return uintBE(atc, 2);
}

function encryptThenWipe(name: "3des" | "sm4", key: Bytes, block: Bytes): Bytes {
  try {
    return ecbEncrypt(name, key, block);
  } finally {
    block.fill(0);
  }
}

/**
 * EMV common session key derivation (EMV 4.x Book 2 A1.3.1): SK = 3DES_MK(R with byte 3 = F0) ‖
 * 3DES_MK(R with byte 3 = 0F), parity-adjusted. R = ATC ‖ 00×6 for AC keys (Visa CVN 18/22, MasterCard CVN
 * 20/21), ATC ‖ 0000 ‖ UN for MasterCard's proprietary derivation (CVN 16/17), the ARQC for secure messaging.
 */
export function emvCommonSessionKey(mk: Bytes, r8: Bytes): Bytes {
  need("R", r8, 8);
  const block = new Uint8Array(16);
  block.set(r8, 0);
  block.set(r8, 8);
  block[2] = 0xf0;
  block[10] = 0x0f;
  const sk = encryptThenWipe("3des", mk, block);
  const out = adjustParity(sk);
  sk.fill(0);
  return out;
}

/**
 * EMV 2000 tree session key derivation (EMV 4.0 Book 2 A1.3; superseded by the common derivation, kept for
 * legacy cards): with F(X, Y, j) = 3DES_X(Y_L ⊕ (j mod b)) ‖ 3DES_X(Y_R ⊕ (j mod b) ⊕ F0), IK_0 = MK,
 * IK_-1 = IV and IK_i = F(IK_i-1, IK_i-2, ⌊ATC / b^(H−i)⌋), SK = IK_H ⊕ IK_H-2, parity-adjusted.
 */
export function emv2000TreeSessionKey(
  mk: Bytes,
  atc: number,
  height = 8,
  branch = 4,
  iv: Bytes = new Uint8Array(16),
): Bytes {
  need("ICC master key", mk, 16);
  need("IV", iv, 16);
  atcBytes(atc);
  if (
    !Number.isInteger(branch) ||
    branch < 2 ||
    branch > 256 ||
    !Number.isInteger(height) ||
    branch ** height < 0x10000
  ) {
    throw new RangeError(
      `tree needs an integer branch factor 2–256 and b^H ≥ 2^16 (b=${branch}, H=${height})`,
    );
  }
  // ik[i + 1] holds IK_i: ik[0] = IV, ik[1] = MK.
  const ik: Bytes[] = [iv, mk];
  for (let i = 1; i <= height; i++) {
    const j = Math.floor(atc / branch ** (height - i)) % branch;
    const y = ik[i - 1]!.slice();
    y[7]! ^= j;
    y[15]! ^= j ^ 0xf0;
    ik.push(encryptThenWipe("3des", ik[i]!, y));
  }
  const sk = new Uint8Array(16);
  for (let i = 0; i < 16; i++) sk[i] = ik[height + 1]![i]! ^ ik[height - 1]![i]!;
  for (let k = 2; k < ik.length; k++) ik[k]!.fill(0);
  const out = adjustParity(sk);
  sk.fill(0);
  return out;
}

/** Visa secure-messaging session key (VIS): SK = MK ⊕ (00×6 ‖ ATC ‖ 00×6 ‖ ATC ⊕ FFFF), parity-adjusted. */
export function visaSecureMessagingSessionKey(mk: Bytes, atc: number): Bytes {
  need("ICC master key", mk, 16);
  const a = atcBytes(atc);
  const sk = mk.slice();
  sk[6]! ^= a[0]!;
  sk[7]! ^= a[1]!;
  sk[14]! ^= ~a[0]! & 0xff;
  sk[15]! ^= ~a[1]! & 0xff;
  const out = adjustParity(sk);
  sk.fill(0);
  return out;
}

/**
 * PBOC / UICS application cryptogram session key (CVN 01): SK = 3DES_UDK(00×6 ‖ ATC) ‖ 3DES_UDK(00×6 ‖ ATC ⊕
 * FFFF). Not parity-adjusted (the published PBOC example keeps the raw bytes).
 */
export function pbocSessionKey(udk: Bytes, atc: number): Bytes {
  const a = atcBytes(atc);
  const block = new Uint8Array(16);
  block.set(a, 6);
  block[14] = ~a[0]! & 0xff;
  block[15] = ~a[1]! & 0xff;
  return encryptThenWipe("3des", udk, block);
}

function epurseKey(alg: EpurseAlgorithm, key: Bytes, core: Bytes, tripleDesBlock: Bytes): Bytes {
  if (alg === "sm4") {
    need("SM4 e-purse key", key, 16);
    return encryptThenWipe("sm4", key, sm4SessionKeyInput(core));
  }
  need("3DES e-purse key", key, 16);
  return encryptThenWipe("3des", key, tripleDesBlock);
}

/**
 * Load (圈存) session key SESLK = 3DES_DLK(random ‖ online ATC ‖ 8000): an 8-byte single-DES key. SM4: SM4 of
 * random ‖ online ATC padded 80 00… to 16 bytes, a 16-byte key (our choice, sm4-pboc.ts).
 */
export function epurseLoadSessionKey(
  dlk: Bytes,
  random4: Bytes,
  onlineAtc: number,
  alg: EpurseAlgorithm = "3des",
): Bytes {
  need("card random", random4, 4);
  const core = new Uint8Array(6);
  core.set(random4);
  core.set(atcBytes(onlineAtc), 4);
  const block = new Uint8Array(8);
  block.set(core);
  block[6] = 0x80;
  return epurseKey(alg, dlk, core, block);
}

/**
 * Purchase (消费) session key SESPK = 3DES_DPK(random ‖ offline ATC ‖ the rightmost 2 bytes of the terminal
 * transaction sequence number): 8 bytes. SM4: SM4 of the same 8 bytes padded 80 00… to 16 (our choice).
 */
export function epursePurchaseSessionKey(
  dpk: Bytes,
  random4: Bytes,
  offlineAtc: number,
  terminalSeq4: Bytes,
  alg: EpurseAlgorithm = "3des",
): Bytes {
  need("card random", random4, 4);
  need("terminal transaction sequence number", terminalSeq4, 4);
  const core = new Uint8Array(8);
  core.set(random4);
  core.set(atcBytes(offlineAtc), 4);
  core.set(terminalSeq4.subarray(2, 4), 6);
  return epurseKey(alg, dpk, core, core.slice());
}

/** TAC key: DTK left ⊕ right (an 8-byte single-DES key). SM4: the 16-byte DTK itself (our choice). */
export function epurseTacKey(dtk: Bytes, alg: EpurseAlgorithm = "3des"): Bytes {
  need("DTK", dtk, 16);
  if (alg === "sm4") return sm4TacKey(dtk);
  const k = new Uint8Array(8);
  for (let i = 0; i < 8; i++) k[i] = dtk[i]! ^ dtk[8 + i]!;
  return k;
}
