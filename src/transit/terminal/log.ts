/**
 * A terminal's transaction log and the upload it sends for clearing (docs/TRANSIT.md "Gate upload format").
 * Each record carries what the card's TAC covers (amount, type, PSAM terminal and sequence, date, time) and
 * whose card it was (system, product, card number, ASN, algorithm), so the clearing house can check every TAC
 * with the domain's TAC key without asking the gate anything.
 */
import type { Fen } from "../../core/money.js";
import type { TransitSystem } from "../catalogue.js";
import type { EpurseAlgorithm } from "../epurse-crypto.js";
import type { FareRule } from "./fares.js";

export const GATE_UPLOAD_FORMAT = "tapwallet.transit.gate-log/1";

export type TerminalKind = "metro-entry" | "metro-exit" | "bus";

export interface GateLogRecord {
  /** The terminal's own record number, from 1. */
  seq: number;
  terminalId: string;
  kind: TerminalKind;
  /** Station code (metro) or line (bus). */
  location: string;
  system: TransitSystem;
  product?: string;
  cardNumber: string;
  /** The card's key diversification factor, hex (8 bytes). */
  asn: string;
  algorithm: EpurseAlgorithm;
  /** 06 purchase, 09 compound purchase. */
  type: number;
  amount: Fen;
  fareRule?: FareRule;
  /** The purse balance before and after (fen), as the card reported at INITIALIZE. */
  balanceBefore: Fen;
  balanceAfter: Fen;
  /** The card's offline counter value of this transaction. */
  cardAtc: number;
  /** PSAM terminal number (6 bytes hex) and transaction sequence (4 bytes hex). */
  psamTerminal: string;
  psamSeq: string;
  /** BCD `YYYYMMDD` and `hhmmss` as sent to the card. */
  date: string;
  time: string;
  tac: string;
  mac2: string;
  /** The card was pulled away during the debit and the TAC was fetched with GET TRANSACTION PROVE. */
  recovered?: boolean;
}

export interface GateUpload {
  format: typeof GATE_UPLOAD_FORMAT;
  terminalId: string;
  operator: string;
  /** ISO 8601. */
  createdAt: string;
  count: number;
  /** Sum of `amount` over the records, fen. */
  total: Fen;
  records: GateLogRecord[];
}

export class GateLog {
  private readonly records: GateLogRecord[] = [];

  constructor(
    readonly terminalId: string,
    readonly operator: string,
  ) {}

  append(r: Omit<GateLogRecord, "seq" | "terminalId">): GateLogRecord {
    const rec: GateLogRecord = { seq: this.records.length + 1, terminalId: this.terminalId, ...r };
    this.records.push(rec);
    return rec;
  }

  get all(): readonly GateLogRecord[] {
    return this.records;
  }

  /** The upload of every record so far. */
  upload(at: Date): GateUpload {
    return {
      format: GATE_UPLOAD_FORMAT,
      terminalId: this.terminalId,
      operator: this.operator,
      createdAt: at.toISOString(),
      count: this.records.length,
      total: this.records.reduce((s, r) => s + r.amount, 0),
      records: this.records.map((r) => ({ ...r })),
    };
  }
}
