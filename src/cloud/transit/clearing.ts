/**
 * Clearing of gate and validator uploads (src/transit/terminal/log.ts, format `tapwallet.transit.gate-log/1`).
 *
 * An operator (metro, bus company) signs in with its upload token. Each record is checked on its own, in any
 * order: the card must be one of ours (product and ASN), its TAC must check with the purchase domain's TAC key
 * (so a gate cannot invent a charge), and the record is taken once — by card number, offline counter and PSAM
 * terminal; a second upload of it is a duplicate and moves nothing. A record that clears moves its fare from
 * the product's float to the operator (`merchant:op.<operator>`) and off the card's balance, in one
 * transaction. A zero-fare record (a metro entry) is kept for the card's history only.
 *
 * The card paid with its TAC, so a ride is honoured to the operator even when the cloud no longer holds the
 * card's money (a removed phone's card refunded before the gate loaded the blacklist): the float pays only
 * what it still holds for that card, and the rest — the shortfall — is posted to the product issuer's
 * `issuer:transit.<product>:shortfall` account (as QuickPass offline clearing does for a bank), kept on the
 * clearing row and named in the answer. Each record clears in its own transaction; a record the books refuse
 * anyway is answered `rejected` with the reason and never holds back the records after it.
 */
import { type Bytes, fromHex, isHex, readBcd } from "../../core/bytes.js";
import {
  type EpurseAlgorithm,
  GATE_UPLOAD_FORMAT,
  type GateLogRecord,
  type GateUpload,
  type TransitProduct,
  getProduct,
  verifyPurchaseTac,
} from "../../transit/index.js";
import { CloudError, type ErrorKind } from "../errors.js";
import { forUpdate, transaction } from "../db/tx.js";
import { randomToken } from "../random.js";
import { sha256Hex } from "../secrets.js";
import { transitAccounts } from "./channels.js";
import type { CardRow, TransitCore, Trx } from "./core.js";
import { transitErrors } from "./errors.js";

const OPERATOR_ID = /^[a-z0-9][a-z0-9-]{0,40}$/;
/** Errors that refuse one record (the ledger's `insufficient_funds`, `idempotency_conflict`…), not the upload. */
const BOOKS_REFUSALS = new Set<ErrorKind>(["invalid", "not_found", "conflict"]);

export type RecordOutcome = "cleared" | "recorded" | "duplicate" | "rejected";

export interface UploadResult {
  uploadId: string;
  operator: string;
  terminalId: string;
  records: number;
  cleared: number;
  duplicates: number;
  rejected: { seq: number; reason: string }[];
  /** Rides honoured beyond what the cloud still held for their card: the part the issuer's shortfall paid. */
  shortfalls: { seq: number; amount: number; shortfall: number }[];
  /** Fen moved to the operator by this upload (shortfalls included). */
  amount: number;
  /** Of `amount`, the fen posted to the issuers' shortfall accounts. */
  shortfall: number;
  /** The operator's totals over every upload so far. */
  totals: OperatorTotals;
}

export interface OperatorTotals {
  operator: string;
  records: number;
  amount: number;
}

const hexOf = (s: string, bytes: number): Bytes | null =>
  typeof s === "string" && s.length === bytes * 2 && isHex(s) ? fromHex(s) : null;

/** The moment a gate stamped (BCD `YYYYMMDD` `hhmmss`, China time) as epoch ms, or null. */
export function occurredAt(date: string, time: string): number | null {
  const d = hexOf(date, 4);
  const t = hexOf(time, 3);
  const ds = d && readBcd(d);
  const ts = t && readBcd(t);
  if (!ds || !ts) return null;
  const ms =
    Date.UTC(
      Number(ds.slice(0, 4)),
      Number(ds.slice(4, 6)) - 1,
      Number(ds.slice(6, 8)),
      Number(ts.slice(0, 2)),
      Number(ts.slice(2, 4)),
      Number(ts.slice(4, 6)),
    ) -
    8 * 3600_000;
  return Number.isFinite(ms) ? ms : null;
}

export class Clearing {
  constructor(private readonly core: TransitCore) {}

  /** Registers an operator; returns its upload token (shown once, kept only as a hash). */
  async registerOperator(id: string, name: string): Promise<{ id: string; name: string; token: string }> {
    if (!OPERATOR_ID.test(id))
      throw new RangeError("an operator id is lower-case letters, digits and dashes");
    const token = randomToken(this.core.ctx.rng, "twop");
    await this.core.openAccounts([{ id: transitAccounts.operator(id), kind: "merchant" }]);
    await this.core.ctx.db.db
      .insertInto("transit_operators")
      .values({ id, name, token_hash: sha256Hex(token), created_at: this.core.now() })
      .execute();
    return { id, name, token };
  }

  async authenticate(token: string): Promise<string> {
    const row = await this.core.ctx.db.db
      .selectFrom("transit_operators")
      .select("id")
      .where("token_hash", "=", sha256Hex(token))
      .executeTakeFirst();
    if (!row) throw transitErrors.operatorUnknown();
    return row.id;
  }

  async totals(operatorId: string): Promise<OperatorTotals> {
    const r = await this.core.ctx.db.db
      .selectFrom("transit_clearings")
      .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.sum<number>("amount").as("total")])
      .where("operator_id", "=", operatorId)
      .executeTakeFirstOrThrow();
    return { operator: operatorId, records: Number(r.n), amount: Number(r.total ?? 0) };
  }

  async upload(operatorId: string, upload: GateUpload): Promise<UploadResult> {
    if (upload.format !== GATE_UPLOAD_FORMAT || upload.operator !== operatorId)
      throw transitErrors.operatorMismatch();
    await this.core.openAccounts([{ id: transitAccounts.operator(operatorId), kind: "merchant" }]);
    const uploadId = this.core.newId("tul");
    const result: UploadResult = {
      uploadId,
      operator: operatorId,
      terminalId: upload.terminalId,
      records: upload.records.length,
      cleared: 0,
      duplicates: 0,
      rejected: [],
      shortfalls: [],
      amount: 0,
      shortfall: 0,
      totals: { operator: operatorId, records: 0, amount: 0 },
    };
    for (const rec of upload.records) {
      const r = await this.clearOne(operatorId, uploadId, rec);
      if (r.outcome === "rejected") result.rejected.push({ seq: rec.seq, reason: r.reason });
      else if (r.outcome === "duplicate") result.duplicates++;
      else {
        result.cleared++;
        result.amount += rec.amount;
        if (r.shortfall > 0) {
          result.shortfalls.push({ seq: rec.seq, amount: rec.amount, shortfall: r.shortfall });
          result.shortfall += r.shortfall;
        }
      }
    }
    await this.core.ctx.db.db
      .insertInto("transit_uploads")
      .values({
        id: uploadId,
        operator_id: operatorId,
        terminal_id: upload.terminalId,
        records: result.records,
        cleared: result.cleared,
        duplicates: result.duplicates,
        rejected: result.rejected.length,
        amount: result.amount,
        shortfall: result.shortfall,
        created_at: this.core.now(),
      })
      .execute();
    result.totals = await this.totals(operatorId);
    return result;
  }

  /** Which of our cards a record is about: by product when the gate named it, else by system and ASN. */
  private async cardOf(trx: Trx, rec: GateLogRecord): Promise<CardRow | undefined> {
    const rows = await trx
      .selectFrom("transit_cards")
      .selectAll()
      .where("asn", "=", rec.asn.toUpperCase())
      .$if(rec.product !== undefined, (qb) => qb.where("product_id", "=", rec.product!))
      .$call(forUpdate(this.core.ctx.db.dialect))
      .execute();
    const mine = rows.filter((c) => getProduct(c.product_id)?.system === rec.system);
    return mine.length === 1 ? mine[0] : undefined;
  }

  private tacChecks(product: TransitProduct, card: CardRow, rec: GateLogRecord): boolean | null {
    const terminal = hexOf(rec.psamTerminal, 6);
    const seq = hexOf(rec.psamSeq, 4);
    const date4 = hexOf(rec.date, 4);
    const time3 = hexOf(rec.time, 3);
    const tac = hexOf(rec.tac, 4);
    if (!terminal || !seq || !date4 || !time3 || !tac) return null;
    const algorithm = card.algorithm as EpurseAlgorithm;
    const key = this.core.deps.keys.tacKey(product, algorithm);
    return verifyPurchaseTac(key.mtk, key.groupFactor, {
      asn: fromHex(card.asn),
      algorithm,
      amount: rec.amount,
      type: rec.type,
      terminal,
      terminalSeq: seq,
      date4,
      time3,
      tac,
    });
  }

  /**
   * One record in its own transaction. A refusal of the books (which the shortfall should make impossible)
   * rolls back only this record: it is answered `rejected` with the ledger's reason, nothing of it is kept,
   * and it may be uploaded again.
   */
  private async clearOne(
    operatorId: string,
    uploadId: string,
    rec: GateLogRecord,
  ): Promise<{ outcome: RecordOutcome; reason: string; shortfall: number }> {
    const fine =
      Number.isSafeInteger(rec.amount) &&
      rec.amount >= 0 &&
      Number.isInteger(rec.cardAtc) &&
      rec.cardAtc >= 0 &&
      rec.cardAtc <= 0xffff &&
      typeof rec.asn === "string" &&
      isHex(rec.asn);
    const at = occurredAt(rec.date, rec.time);
    if (!fine || at === null) return refused("malformed");
    try {
      return await transaction(this.core.ctx.db.db, (trx) =>
        this.clearIn(trx, operatorId, uploadId, rec, at),
      );
    } catch (e) {
      if (e instanceof CloudError && BOOKS_REFUSALS.has(e.kind)) return refused(e.code);
      throw e;
    }
  }

  private async clearIn(
    trx: Trx,
    operatorId: string,
    uploadId: string,
    rec: GateLogRecord,
    at: number,
  ): Promise<{ outcome: RecordOutcome; reason: string; shortfall: number }> {
    const card = await this.cardOf(trx, rec);
    if (!card) return refused("unknown_card");
    const product = this.core.product(card);
    const checks = this.tacChecks(product, card, rec);
    if (checks === null) return refused("malformed");
    if (!checks) return refused("tac_invalid");
    const outcome = rec.amount > 0 ? "cleared" : "recorded";
    const covered = Math.min(rec.amount, await this.heldFor(trx, card));
    const shortfall = rec.amount - covered;
    const inserted = await trx
      .insertInto("transit_clearings")
      .values({
        id: this.core.newId("tcl"),
        operator_id: operatorId,
        card_id: card.id,
        product_id: card.product_id,
        card_number: card.card_number,
        card_atc: rec.cardAtc,
        psam_terminal: rec.psamTerminal.toUpperCase(),
        psam_seq: rec.psamSeq.toUpperCase(),
        terminal_id: rec.terminalId,
        kind: rec.kind,
        location: rec.location,
        tx_type: rec.type,
        amount: rec.amount,
        shortfall,
        occurred_at: at,
        tac: rec.tac.toUpperCase(),
        outcome,
        upload_id: uploadId,
        created_at: this.core.now(),
      })
      .onConflict((oc) => oc.columns(["product_id", "card_number", "card_atc", "psam_terminal"]).doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) return { outcome: "duplicate", reason: "duplicate", shortfall: 0 };
    const unfunded = transitAccounts.shortfall(card.product_id);
    // Opened in this transaction (rare, and rolled back with it), so not remembered as opened.
    if (shortfall > 0)
      await this.core.deps.ledger.openAccount({ id: unfunded, kind: "issuer_settlement" }, trx);
    const key = `transit.clear:${card.product_id}:${card.card_number}:${rec.cardAtc}:${rec.psamTerminal.toUpperCase()}`;
    await this.core.post(
      trx,
      key,
      "transit.clearing",
      [
        [transitAccounts.float(card.product_id), covered],
        [unfunded, shortfall],
        [transitAccounts.operator(operatorId), -rec.amount],
      ],
      { card: card.id, upload: uploadId, shortfall },
    );
    await this.core.updateCard(trx, card.id, {
      balance: card.balance - covered,
      offline_atc: Math.max(card.offline_atc, rec.cardAtc),
    });
    return { outcome, reason: "", shortfall };
  }

  /**
   * What the product's float still holds for the card: its proven balance plus a load in flight (posted to
   * the float, not yet proven on the card). A card the cloud stands behind always covers its own rides (its
   * gates can only charge what it holds, and every load it got is posted); a refunded, replaced or retired
   * card holds nothing — its money went back.
   */
  private async heldFor(trx: Trx, card: CardRow): Promise<number> {
    const inflight = card.inflight_load_id
      ? await trx
          .selectFrom("transit_loads")
          .select("amount")
          .where("id", "=", card.inflight_load_id)
          .where("state", "=", "authorised")
          .executeTakeFirst()
      : undefined;
    return Math.max(0, card.balance + (inflight?.amount ?? 0));
  }
}

const refused = (reason: string) => ({ outcome: "rejected" as const, reason, shortfall: 0 });
