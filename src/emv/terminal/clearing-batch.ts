/**
 * The POS's clearing batch: every payment the card approved offline (a TC after fDDA, the kernel's
 * "approved" outcome) becomes a clearing record — field 55 with the TC, the token as the PAN, amount,
 * currency, STAN, terminal and merchant — kept in a batch file until the issuer has answered for it
 * (`tapwallet pos --batch FILE`, then `tapwallet pos --clear FILE`). Online approvals are not batched: the
 * issuer charged them when it approved. The file holds tokens, never funding PANs; it is written with mode
 * 0600 and replaced atomically.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { toHex } from "../../core/bytes.js";
import { TapwalletError } from "../../core/errors.js";
import { CLEARING_BATCH_FORMAT, type ClearingBatch, type ClearingRecord } from "../clearing.js";
import type { TerminalConfig } from "./config.js";
import type { PaymentResult } from "./pos.js";

/** The clearing record of an offline approval; null for anything else (online, declined…). */
export function clearingRecordOf(r: PaymentResult, config: TerminalConfig): ClearingRecord | null {
  const card = r.outcome.card;
  if (r.status !== "approved" || r.decidedBy !== "card" || !card || !r.outcome.field55) return null;
  if (card.cryptogramType !== "TC") return null;
  return {
    terminalId: config.terminalId,
    merchantId: config.merchantId,
    merchantName: config.merchantName,
    stan: r.stan,
    amount: r.amount,
    currency: toHex(config.currencyCode),
    pan: card.pan,
    panSequenceNumber: card.psn,
    field55: toHex(r.outcome.field55),
    capturedAt: r.at.toISOString(),
  };
}

function invalid(path: string, what: string): TapwalletError {
  return new TapwalletError(
    "batch_file_invalid",
    `清算批次文件 ${path} 无效：${what}`,
    `clearing batch file ${path} is invalid: ${what}`,
  );
}

/** The batch in `path`; a missing file is an empty batch, a malformed one a `TapwalletError`. */
export function loadBatch(path: string): ClearingBatch {
  if (!existsSync(path)) return { format: CLEARING_BATCH_FORMAT, records: [] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw invalid(path, (e as Error).message);
  }
  const b = json as Partial<ClearingBatch> | null;
  if (typeof b !== "object" || b === null || b.format !== CLEARING_BATCH_FORMAT)
    throw invalid(path, "format");
  if (!Array.isArray(b.records) || b.records.some((r) => typeof r !== "object" || r === null))
    throw invalid(path, "records");
  return { format: CLEARING_BATCH_FORMAT, records: b.records };
}

export function saveBatch(path: string, batch: ClearingBatch): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, JSON.stringify(batch, null, 1), { mode: 0o600 });
  renameSync(tmp, path);
}

/** Adds a record to the batch in `path` (created if missing); returns how many records it now holds. */
export function appendToBatch(path: string, record: ClearingRecord): number {
  const batch = loadBatch(path);
  batch.records.push(record);
  saveBatch(path, batch);
  return batch.records.length;
}
