/**
 * The PSAM (terminal security module) of a gate or validator, as a contact card answering APDUs, and the
 * client a terminal drives it with (reference transit.md §3.2):
 *
 *   00 A4 04 00  SELECT the purse application of a key domain (MOHURD: DF name BDA8C9E8B2BF "建设部")
 *   00 B0 96 00 06  READ BINARY EF16: the terminal number       00 B0 97 00 01  EF17: the key index
 *   80 CA 00 00 09  the user card's security code for the next MAC1 (City Union)
 *   80 70 00 00 24  MAC1: random 4 ‖ offline ATC 2 ‖ amount 4 ‖ type 1 ‖ datetime 7 ‖ key version 1 ‖
 *                   algorithm id 1 ‖ ASN 8 ‖ group factor 8  →  terminal sequence 4 ‖ MAC1 4
 *   80 72 00 00 04  verify the card's MAC2
 *
 * It holds the domain's purchase master key (3DES and/or SM4), derives each card's DPK from the ASN (and the
 * group factor for MOHURD cards), and numbers its transactions. It never throws.
 */
import {
  type CommandApdu,
  type ResponseApdu,
  encodeCommand,
  encodeResponse,
  parseCommand,
  parseResponse,
  response,
} from "../core/apdu.js";
import {
  type Bytes,
  ascii,
  concat,
  equal,
  equalConstantTime,
  fromHex,
  readUintBE,
  uintBE,
} from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";
import { SW, describeSw } from "../core/sw.js";
import {
  algorithmOfId,
  diversifyCardKey,
  purchaseMac1,
  purchaseMac2,
  purchaseSessionKey,
  TxType,
} from "./epurse-crypto.js";
import type { PurchaseKey } from "./keys.js";

/** DF name of a domain's PSAM application: MOHURD's published one, ours for the others. */
function psamDfName(domain: string): Bytes {
  return domain === "city-union" ? fromHex("BDA8C9E8B2BF") : ascii(`PSAM.${domain}`.slice(0, 16));
}

interface PsamSession {
  key: Bytes;
  algorithm: "3des" | "sm4";
  amount: number;
}

export const PSAM_KEY_INDEX = 0x01;
const ZERO_GROUP = new Uint8Array(8);

export class Psam {
  private selected: string | null = null;
  private code: Bytes | null = null;
  private session: PsamSession | null = null;
  private seq: number;

  constructor(
    private readonly keys: readonly PurchaseKey[],
    /** The terminal number (6 bytes) this PSAM puts in every transaction. */
    readonly terminal: Bytes,
    firstSequence = 1,
  ) {
    this.seq = firstSequence;
  }

  /** The next transaction sequence number. */
  get sequence(): number {
    return this.seq;
  }

  /** One C-APDU in, one R-APDU out. */
  process(bytes: Bytes): Bytes {
    const c = parseCommand(bytes);
    return encodeResponse(c.ok ? this.handle(c.value) : response(c.error.sw));
  }

  private handle(c: CommandApdu): ResponseApdu {
    if (c.cla === 0x00 && c.ins === 0xa4) return this.select(c);
    if (c.cla === 0x00 && c.ins === 0xb0) return this.readBinary(c);
    if (c.cla !== 0x80) return response(c.cla === 0x00 ? SW.INS_NOT_SUPPORTED : SW.CLA_NOT_SUPPORTED);
    if (this.selected === null) return response(SW.CONDITIONS_NOT_SATISFIED);
    switch (c.ins) {
      case 0xca:
        if (c.p1 !== 0 || c.p2 !== 0) return response(SW.INCORRECT_P1P2);
        if (c.data.length !== 9) return response(SW.WRONG_LENGTH);
        this.code = c.data.slice();
        return response(SW.OK);
      case 0x70:
        return this.mac1(c);
      case 0x72:
        return this.verifyMac2(c);
      default:
        return response(SW.INS_NOT_SUPPORTED);
    }
  }

  private select(c: CommandApdu): ResponseApdu {
    if (c.p1 !== 0x04) return response(SW.INCORRECT_P1P2);
    const hit = this.keys.find((k) => equal(psamDfName(k.domain), c.data));
    this.session = null;
    this.code = null;
    if (!hit) return response(SW.FILE_NOT_FOUND);
    this.selected = hit.domain;
    return response(SW.OK);
  }

  private readBinary(c: CommandApdu): ResponseApdu {
    if (this.selected === null) return response(SW.CONDITIONS_NOT_SATISFIED);
    if (c.p1 === 0x96 && c.p2 === 0) return response(SW.OK, this.terminal.slice());
    if (c.p1 === 0x97 && c.p2 === 0) return response(SW.OK, Uint8Array.of(PSAM_KEY_INDEX));
    return response(SW.FILE_NOT_FOUND);
  }

  private mac1(c: CommandApdu): ResponseApdu {
    this.session = null;
    if (c.p1 !== 0 || c.p2 !== 0) return response(SW.INCORRECT_P1P2);
    if (c.data.length !== 0x24) return response(SW.WRONG_LENGTH);
    const d = c.data;
    const type = d[10]!;
    if (type !== TxType.EP_PURCHASE && type !== TxType.CAPP_PURCHASE) return response(SW.WRONG_DATA);
    const algorithm = algorithmOfId(d[19]!);
    const entry = this.keys.find((k) => k.domain === this.selected && k.algorithm === algorithm);
    if (!algorithm || !entry || entry.keyVersion !== d[18]) return response(SW.REFERENCED_DATA_NOT_FOUND);
    if (this.seq > 0xffffffff) return response(SW.COUNTER_AT_MAXIMUM);
    const asn = d.slice(20, 28);
    const group = d.slice(28, 36);
    const dpk = diversifyCardKey(entry.mpk, asn, algorithm, equal(group, ZERO_GROUP) ? undefined : group);
    const termSeq = uintBE(this.seq, 4);
    const amount = readUintBE(d, 6, 4);
    const key = purchaseSessionKey(dpk, d.slice(0, 4), readUintBE(d, 4, 2), termSeq, algorithm);
    dpk.fill(0);
    const fields = { amount, type, terminal: this.terminal, date4: d.slice(11, 15), time3: d.slice(15, 18) };
    const mac1 = purchaseMac1(key, algorithm, fields, this.code ?? undefined);
    this.code = null;
    this.session = { key, algorithm, amount };
    this.seq++;
    return response(SW.OK, concat(termSeq, mac1));
  }

  private verifyMac2(c: CommandApdu): ResponseApdu {
    const s = this.session;
    this.session = null;
    if (c.p1 !== 0 || c.p2 !== 0) return response(SW.INCORRECT_P1P2);
    if (c.data.length !== 4) return response(SW.WRONG_LENGTH);
    if (!s) return response(SW.CONDITIONS_NOT_SATISFIED);
    return response(
      equalConstantTime(c.data, purchaseMac2(s.key, s.algorithm, s.amount)) ? SW.OK : SW.MAC_INVALID,
    );
  }
}

/** The PSAM answered a status word the terminal did not expect. */
export class PsamError extends TapwalletError {
  constructor(
    readonly command: string,
    readonly sw: number,
  ) {
    const m = describeSw(sw);
    super("psam_error", `PSAM 拒绝 ${command}：${m.zh}`, `the PSAM refused ${command}: ${m.en}`, { sw });
  }
}

/** What a terminal asks the PSAM for one purchase. */
export interface Mac1Input {
  random: Bytes;
  offlineAtc: number;
  amount: number;
  type: number;
  date4: Bytes;
  time3: Bytes;
  keyVersion: number;
  algorithmId: number;
  asn: Bytes;
  /** MOHURD group factor, zeros when the domain has none. */
  groupFactor?: Bytes;
}

/** The terminal's side of the PSAM slot. */
export class PsamClient {
  constructor(private readonly card: { process(command: Bytes): Bytes }) {}

  private exchange(name: string, c: CommandApdu): Bytes {
    const r = parseResponse(this.card.process(encodeCommand(c)));
    if (!r.ok) throw new PsamError(name, SW.UNKNOWN);
    if (r.value.sw !== SW.OK) throw new PsamError(name, r.value.sw);
    return r.value.data;
  }

  /** Selects the purse application of a key domain and returns the PSAM's terminal number. */
  open(domain: string): Bytes {
    this.exchange("SELECT", { cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: psamDfName(domain) });
    return this.exchange("READ BINARY EF16", {
      cla: 0x00,
      ins: 0xb0,
      p1: 0x96,
      p2: 0x00,
      data: new Uint8Array(0),
      ne: 6,
    });
  }

  /** Hands the PSAM a City Union card's 80CA security code for the next MAC1. */
  securityCode(code: Bytes): void {
    this.exchange("GET DATA 80CA", { cla: 0x80, ins: 0xca, p1: 0x00, p2: 0x00, data: code });
  }

  mac1(i: Mac1Input): { terminalSeq: Bytes; mac1: Bytes } {
    const data = concat(
      i.random,
      uintBE(i.offlineAtc, 2),
      uintBE(i.amount, 4),
      Uint8Array.of(i.type),
      i.date4,
      i.time3,
      Uint8Array.of(i.keyVersion, i.algorithmId),
      i.asn,
      i.groupFactor ?? ZERO_GROUP,
    );
    const out = this.exchange("MAC1", { cla: 0x80, ins: 0x70, p1: 0x00, p2: 0x00, data, ne: 8 });
    if (out.length !== 8) throw new PsamError("MAC1", SW.WRONG_LENGTH);
    return { terminalSeq: out.slice(0, 4), mac1: out.slice(4, 8) };
  }

  /** Whether the card's MAC2 is right (a wrong one means the card did not debit with a genuine key). */
  verifyMac2(mac2: Bytes): boolean {
    const r = parseResponse(
      this.card.process(encodeCommand({ cla: 0x80, ins: 0x72, p1: 0, p2: 0, data: mac2 })),
    );
    return r.ok && r.value.sw === SW.OK;
  }
}
