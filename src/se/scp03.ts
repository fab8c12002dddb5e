/**
 * GlobalPlatform SCP03 (GPC 2.3 Amendment D): key derivation, cryptograms and the secure channel's
 * per-command protection, for both ends. The card manager and the TSM's host side (scp03-host.ts) share
 * this module; it knows nothing of the SE runtime.
 *
 * - KDF: NIST SP 800-108 counter mode with AES-CMAC as PRF, GP's data layout: label (11 × 00 ‖ derivation
 *   constant) ‖ 00 ‖ L (2 bytes, bits) ‖ i (1 byte) ‖ context.
 * - Session keys: S-ENC = KDF(K-ENC, 04), S-MAC = KDF(K-MAC, 06), S-RMAC = KDF(K-MAC, 07), context = host
 *   challenge ‖ card challenge. Card/host cryptograms: KDF(S-MAC, 00/01, 64 bits). Pseudo-random card
 *   challenge: KDF(K-ENC, 02, 64 bits, sequence counter ‖ ISD AID).
 * - C-MAC: CMAC(S-MAC, chaining value ‖ CLA' INS P1 P2 Lc' ‖ data'), CLA' = CLA with bit 3 set, Lc' counting
 *   the 8-byte MAC; the full 16-byte CMAC is the next chaining value (16 × 00 before EXTERNAL AUTHENTICATE).
 * - C-DECRYPTION: the encryption counter goes up by one for every command after EXTERNAL AUTHENTICATE (with
 *   or without data); ICV = AES(S-ENC, counter as 16 bytes); data padded 80 00… and AES-CBC encrypted.
 * - R-MAC: CMAC(S-RMAC, chaining value ‖ data ‖ SW), 8 bytes, only on 9000/62XX/63XX; R-ENCRYPTION uses the
 *   ICV AES(S-ENC, 80 ‖ counter[15 bytes]).
 * Extended-length APDUs are protected the same way, Lc' then being encoded on 3 bytes as sent.
 */
import { type CommandApdu, type ResponseApdu, response } from "../core/apdu.js";
import { type Bytes, concat, equalConstantTime } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import { cbcDecrypt, cbcEncrypt, ecbEncrypt } from "../crypto/cipher.js";
import { cmac } from "../crypto/cmac.js";
import { padIso9797M2, unpadIso9797M2 } from "../crypto/padding.js";

/** A security domain's static AES keys (16, 24 or 32 bytes each) and their key version number. */
export interface Scp03Keys {
  enc: Bytes;
  mac: Bytes;
  dek: Bytes;
  /** Key version number, 0x30–0x3F for SCP03 (GPC_GUI_010); INITIALIZE UPDATE may name it or send 00. */
  version: number;
}

export interface SessionKeys {
  sEnc: Bytes;
  sMac: Bytes;
  sRmac: Bytes;
}

/** Amendment D Table 4-1 derivation constants. */
const DERIVATION = {
  CARD_CRYPTOGRAM: 0x00,
  HOST_CRYPTOGRAM: 0x01,
  CARD_CHALLENGE: 0x02,
  S_ENC: 0x04,
  S_MAC: 0x06,
  S_RMAC: 0x07,
} as const;

/** Security level bits (P1 of EXTERNAL AUTHENTICATE). */
export const SECURITY_LEVEL = { C_MAC: 0x01, C_DECRYPTION: 0x02, R_MAC: 0x10, R_ENCRYPTION: 0x20 } as const;
/** The levels Amendment D allows. */
export const VALID_SECURITY_LEVELS: readonly number[] = [0x01, 0x03, 0x11, 0x13, 0x33];

/** "i" parameter this card announces: S8 mode, pseudo-random card challenge, R-MAC and R-ENC supported. */
export const SCP03_I_PARAM = 0x70;
export const SCP03_ID = 0x03;

const BLOCK = 16;
const MAC_LEN = 8;
const CLA_SM = 0x04;

/** GP SCP03 KDF (Amendment D §4.1.5). */
export function scp03Kdf(key: Bytes, constant: number, bits: number, context: Bytes): Bytes {
  const out: Bytes[] = [];
  const n = Math.ceil(bits / 128);
  for (let i = 1; i <= n; i++) {
    const info = new Uint8Array(16 + context.length);
    info[11] = constant;
    // info[12] = 00 separation indicator
    info[13] = bits >> 8;
    info[14] = bits & 0xff;
    info[15] = i;
    info.set(context, 16);
    out.push(cmac("aes", key, info));
  }
  return concat(...out).slice(0, bits / 8);
}

export function deriveSessionKeys(keys: Scp03Keys, hostChallenge: Bytes, cardChallenge: Bytes): SessionKeys {
  const context = concat(hostChallenge, cardChallenge);
  return {
    sEnc: scp03Kdf(keys.enc, DERIVATION.S_ENC, keys.enc.length * 8, context),
    sMac: scp03Kdf(keys.mac, DERIVATION.S_MAC, keys.mac.length * 8, context),
    sRmac: scp03Kdf(keys.mac, DERIVATION.S_RMAC, keys.mac.length * 8, context),
  };
}

export const cardCryptogram = (sMac: Bytes, hostChallenge: Bytes, cardChallenge: Bytes): Bytes =>
  scp03Kdf(sMac, DERIVATION.CARD_CRYPTOGRAM, 64, concat(hostChallenge, cardChallenge));

export const hostCryptogram = (sMac: Bytes, hostChallenge: Bytes, cardChallenge: Bytes): Bytes =>
  scp03Kdf(sMac, DERIVATION.HOST_CRYPTOGRAM, 64, concat(hostChallenge, cardChallenge));

/** Pseudo-random card challenge from the 3-byte sequence counter and the security domain's AID. */
export const pseudoRandomCardChallenge = (enc: Bytes, sequenceCounter: Bytes, sdAid: Bytes): Bytes =>
  scp03Kdf(enc, DERIVATION.CARD_CHALLENGE, 64, concat(sequenceCounter, sdAid));

/** The INITIALIZE UPDATE response data (S8 mode, pseudo-random challenge: 32 bytes). */
export interface InitializeUpdateResponse {
  diversificationData: Bytes;
  keyVersion: number;
  scpId: number;
  iParam: number;
  cardChallenge: Bytes;
  cardCryptogram: Bytes;
  sequenceCounter?: Bytes;
}

export function encodeInitializeUpdateResponse(r: InitializeUpdateResponse): Bytes {
  return concat(
    r.diversificationData,
    Uint8Array.of(r.keyVersion, r.scpId, r.iParam),
    r.cardChallenge,
    r.cardCryptogram,
    r.sequenceCounter ?? new Uint8Array(0),
  );
}

export function parseInitializeUpdateResponse(data: Bytes): Result<InitializeUpdateResponse> {
  if (data.length !== 29 && data.length !== 32)
    return err(`INITIALIZE UPDATE response of ${data.length} bytes (S8 mode expects 29 or 32)`);
  if (data[11] !== SCP03_ID) return err(`the card answers with SCP ${data[11]}, not SCP03`);
  return ok({
    diversificationData: data.slice(0, 10),
    keyVersion: data[10]!,
    scpId: data[11]!,
    iParam: data[12]!,
    cardChallenge: data.slice(13, 21),
    cardCryptogram: data.slice(21, 29),
    ...(data.length === 32 ? { sequenceCounter: data.slice(29, 32) } : {}),
  });
}

const pad = (data: Bytes) => padIso9797M2(data, BLOCK);

/** Lc as the APDU carries it: 1 byte, or 00 ‖ 2 bytes for extended length. */
function lcField(n: number, extended: boolean): Bytes {
  return extended ? Uint8Array.of(0, n >> 8, n & 0xff) : Uint8Array.of(n);
}

const isProtectableSw = (sw: number): boolean => sw === 0x9000 || sw >> 8 === 0x62 || sw >> 8 === 0x63;

/**
 * The state both ends keep for one secure channel session: MAC chaining value and encryption counter.
 * Host: `wrap` commands, `unwrapResponse` answers. Card: `unwrapCommand`, `protectResponse`.
 */
export class SecureChannel {
  private chaining: Bytes = new Uint8Array(BLOCK);
  private counter = 0;

  constructor(
    private readonly keys: SessionKeys,
    readonly securityLevel: number,
  ) {}

  private has(bit: number): boolean {
    return (this.securityLevel & bit) !== 0;
  }

  private icv(response: boolean): Bytes {
    const block = new Uint8Array(BLOCK);
    let c = this.counter;
    for (let i = BLOCK - 1; i >= 0 && c > 0; i--) {
      block[i] = c % 256;
      c = Math.floor(c / 256);
    }
    if (response) block[0] = 0x80;
    return ecbEncrypt("aes", this.keys.sEnc, block);
  }

  private mac(header: Bytes, data: Bytes): Bytes {
    this.chaining = cmac("aes", this.keys.sMac, concat(this.chaining, header, data));
    return this.chaining.slice(0, MAC_LEN);
  }

  /** Host: protects a command. `encrypt: false` for EXTERNAL AUTHENTICATE (MAC only, counter unchanged). */
  wrap(c: CommandApdu, options: { encrypt?: boolean } = {}): CommandApdu {
    const encrypt = (options.encrypt ?? true) && this.has(SECURITY_LEVEL.C_DECRYPTION);
    let data = c.data;
    if (encrypt) {
      this.counter++;
      if (data.length > 0) data = cbcEncrypt("aes", this.keys.sEnc, this.icv(false), pad(data));
    }
    const cla = (c.cla & 0xf0) | CLA_SM;
    const lc = data.length + MAC_LEN;
    const extended = c.extended === true || lc > 255 || (c.ne !== undefined && c.ne > 256);
    const mac = this.mac(concat(Uint8Array.of(cla, c.ins, c.p1, c.p2), lcField(lc, extended)), data);
    const out: CommandApdu = { cla, ins: c.ins, p1: c.p1, p2: c.p2, data: concat(data, mac) };
    if (c.ne !== undefined) out.ne = c.ne;
    if (extended) out.extended = true;
    return out;
  }

  /** Host: checks the R-MAC and deciphers R-ENC data of an answer to the last wrapped command. */
  unwrapResponse(r: ResponseApdu): Result<ResponseApdu> {
    if (!this.has(SECURITY_LEVEL.R_MAC) || !isProtectableSw(r.sw)) return ok(r);
    if (r.data.length < MAC_LEN) return err("response too short for its R-MAC");
    const body = r.data.subarray(0, r.data.length - MAC_LEN);
    const expected = cmac(
      "aes",
      this.keys.sRmac,
      concat(this.chaining, body, Uint8Array.of(r.sw >> 8, r.sw & 0xff)),
    );
    if (!equalConstantTime(expected.subarray(0, MAC_LEN), r.data.subarray(body.length)))
      return err("R-MAC mismatch");
    if (!this.has(SECURITY_LEVEL.R_ENCRYPTION) || body.length === 0) return ok(response(r.sw, body.slice()));
    if (body.length % BLOCK !== 0) return err("R-ENC data is not whole AES blocks");
    const plain = unpadIso9797M2(cbcDecrypt("aes", this.keys.sEnc, this.icv(true), body), BLOCK);
    return plain.ok ? ok(response(r.sw, plain.value.slice())) : err(`R-ENC padding: ${plain.error}`);
  }

  /**
   * Card: verifies a protected command's C-MAC (and deciphers it), returning the plain command. Any failure
   * means the session must end (the caller answers 6982).
   */
  unwrapCommand(c: CommandApdu, options: { decrypt?: boolean } = {}): Result<CommandApdu> {
    if ((c.cla & CLA_SM) === 0) return err("command without secure messaging in a secure channel session");
    if (c.data.length < MAC_LEN) return err("command too short for its C-MAC");
    const body = c.data.subarray(0, c.data.length - MAC_LEN);
    const header = concat(
      Uint8Array.of(c.cla, c.ins, c.p1, c.p2),
      lcField(c.data.length, c.extended === true),
    );
    const before = this.chaining;
    const expected = this.mac(header, body);
    if (!equalConstantTime(expected, c.data.subarray(body.length))) {
      this.chaining = before;
      return err("C-MAC mismatch");
    }
    let data: Bytes = body.slice();
    if ((options.decrypt ?? true) && this.has(SECURITY_LEVEL.C_DECRYPTION)) {
      this.counter++;
      if (data.length > 0) {
        if (data.length % BLOCK !== 0) return err("C-DEC data is not whole AES blocks");
        const plain = unpadIso9797M2(cbcDecrypt("aes", this.keys.sEnc, this.icv(false), data), BLOCK);
        if (!plain.ok) return err(`C-DEC padding: ${plain.error}`);
        data = plain.value.slice();
      }
    }
    const out: CommandApdu = { cla: c.cla & ~CLA_SM, ins: c.ins, p1: c.p1, p2: c.p2, data };
    if (c.ne !== undefined) out.ne = c.ne;
    return ok(out);
  }

  /** Card: adds R-ENC and R-MAC to an answer per the security level (errors go back unprotected). */
  protectResponse(r: ResponseApdu): ResponseApdu {
    if (!this.has(SECURITY_LEVEL.R_MAC) || !isProtectableSw(r.sw)) return r;
    let data = r.data;
    if (this.has(SECURITY_LEVEL.R_ENCRYPTION) && data.length > 0)
      data = cbcEncrypt("aes", this.keys.sEnc, this.icv(true), pad(data));
    const rmac = cmac(
      "aes",
      this.keys.sRmac,
      concat(this.chaining, data, Uint8Array.of(r.sw >> 8, r.sw & 0xff)),
    );
    return response(r.sw, concat(data, rmac.subarray(0, MAC_LEN)));
  }
}
