/**
 * EMV contactless Entry Point (Book B) for a QuickPass POS: pre-processing per application (contactless
 * limit, CVM-required limit, floor limit, zero amount → the TTQ; JR/T 0025.12 §6.2), PPSE selection,
 * combination building (the card's directory entries × the terminal's AIDs and kernels), choice by
 * priority, final SELECT (next candidate when it fails) and activation of the C-7 kernel.
 */
import { command } from "../../core/apdu.js";
import { type Bytes, ascii, bcd, equal, fromHex, readAscii, startsWith } from "../../core/bytes.js";
import { type Clock, chinaDateDigits } from "../../core/clock.js";
import type { Fen } from "../../core/money.js";
import { type Tlv, findTag, parseTlv } from "../../core/tlv.js";
import type { Link } from "../../nfc/link.js";
import { KERNEL_ID_UNIONPAY, TTQ, UNIONPAY_RID, withBit } from "../profile.js";
import { CardIo } from "./card-io.js";
import { type AidParameters, type TerminalConfig, ifdSerialBytes } from "./config.js";
import { runKernelC7 } from "./kernel-c7.js";
import { type KernelOutcome, R, type Reason } from "./outcome.js";
import { PPSE_NAME } from "../../se/gp.js";

export interface TransactionInput {
  amount: Fen;
  otherAmount?: Fen;
  /** 9C: 00 purchase (default). */
  type?: number;
  /** Transaction sequence counter (9F41). */
  sequenceCounter: number;
  /** Unpredictable number (9F37); drawn from `random` when absent. */
  unpredictableNumber?: Bytes;
}

export interface TerminalEnvironment {
  clock: Clock;
  /** The terminal's random source (unpredictable numbers). */
  random(length: number): Bytes;
}

export interface Combination {
  params: AidParameters;
  /** The TTQ after pre-processing. */
  ttq: Bytes;
  cvmRequired: boolean;
  contactlessAllowed: boolean;
}

/** Pre-processing of every configured application for this amount (Book B §3.1, JR/T 0025.12 §6.2). */
export function preprocess(config: TerminalConfig, amount: Fen): Combination[] {
  return config.aids.map((params) => {
    let ttq: Bytes = params.ttq.slice(0, 4);
    ttq = withBit(withBit(ttq, TTQ.onlineCryptogramRequired, false), TTQ.cvmRequired, false);
    let contactlessAllowed = true;
    if (params.contactlessTransactionLimit !== null && amount >= params.contactlessTransactionLimit)
      contactlessAllowed = false;
    const offlineOnly = (ttq[0]! & TTQ.offlineOnly[1]) !== 0;
    if (amount === 0) {
      if (offlineOnly) contactlessAllowed = false;
      else ttq = withBit(ttq, TTQ.onlineCryptogramRequired);
    }
    const cvmRequired = params.cvmRequiredLimit !== null && amount >= params.cvmRequiredLimit;
    if (cvmRequired) ttq = withBit(ttq, TTQ.cvmRequired);
    if (params.floorLimit !== null && amount > params.floorLimit)
      ttq = withBit(ttq, TTQ.onlineCryptogramRequired);
    return { params, ttq, cvmRequired, contactlessAllowed };
  });
}

export interface DirectoryEntry {
  adfName: Bytes;
  label?: string;
  /** 1–15, 0 = none given. */
  priority: number;
  kernelId: number;
}

/** The kernel a directory entry asks for: 9F2A if present (Book B §3.3.2.5), else the RID's default. */
function kernelOf(adfName: Bytes, kernelTag: Bytes | undefined): number {
  if (kernelTag && kernelTag.length >= 1) {
    const b = kernelTag[0]!;
    return (b & 0xc0) === 0 ? b & 0x3f : -1; // only international kernels are supported here
  }
  return startsWith(adfName, UNIONPAY_RID) ? KERNEL_ID_UNIONPAY : -1;
}

/** Directory entries of a PPSE FCI; entries with a malformed ADF name are skipped (Book B). */
export function parsePpse(fci: Bytes): DirectoryEntry[] | null {
  const parsed = parseTlv(fci);
  if (!parsed.ok || parsed.value.length !== 1 || parsed.value[0]!.tag !== 0x6f) return null;
  const discretionary = findTag(parsed.value, 0xbf0c);
  if (!discretionary?.children) return null;
  const out: DirectoryEntry[] = [];
  for (const entry of discretionary.children) {
    if (entry.tag !== 0x61 || !entry.children) continue;
    const get = (tag: number) => entry.children!.find((t) => t.tag === tag)?.value;
    const adfName = get(0x4f);
    if (!adfName || adfName.length < 5 || adfName.length > 16) continue;
    const label = get(0x50);
    const priority = get(0x87);
    const e: DirectoryEntry = {
      adfName,
      priority: priority?.length === 1 ? priority[0]! & 0x0f : 0,
      kernelId: kernelOf(adfName, get(0x9f2a)),
    };
    if (label && label.length <= 16) e.label = readAscii(label);
    out.push(e);
  }
  return out;
}

/** Candidates in the order to try: priority 1 first, entries without priority last, card order otherwise. */
export function buildCandidates(
  entries: DirectoryEntry[],
  combos: Combination[],
): { entry: DirectoryEntry; combo: Combination }[] {
  const out: { entry: DirectoryEntry; combo: Combination; order: number }[] = [];
  entries.forEach((entry, order) => {
    const combo = combos.find(
      (c) =>
        c.contactlessAllowed &&
        startsWith(entry.adfName, c.params.aid) &&
        c.params.kernelId === entry.kernelId,
    );
    if (combo) out.push({ entry, combo, order });
  });
  const rank = (p: number) => (p === 0 ? 16 : p);
  return out.sort((a, b) => rank(a.entry.priority) - rank(b.entry.priority) || a.order - b.order);
}

function outcome(kind: KernelOutcome["kind"], reason: Reason): KernelOutcome {
  return { kind, reason, cvm: "none" };
}

/**
 * One contactless transaction with the card in the field, up to the kernel's outcome. The field must be on;
 * the caller (the POS) powers it and takes the card away.
 */
export async function startTransaction(
  link: Link,
  config: TerminalConfig,
  txn: TransactionInput,
  env: TerminalEnvironment,
): Promise<KernelOutcome> {
  const combos = preprocess(config, txn.amount);
  if (!combos.some((c) => c.contactlessAllowed)) {
    const zero = txn.amount === 0;
    return outcome("try-another-interface", zero ? R.zeroAmountOffline : R.contactlessNotAllowed);
  }
  const io = new CardIo(link);
  const ppse = await io.send(command(0x00, 0xa4, 0x04, 0x00, PPSE_NAME, 256));
  if (!ppse.ok) return outcome("try-again", R.cardGone);
  if (ppse.value.sw !== 0x9000) return outcome("try-another-interface", R.noPpse);
  const entries = parsePpse(ppse.value.data);
  if (entries === null) return outcome("try-another-interface", R.noPpse);
  const candidates = buildCandidates(entries, combos);

  const now = env.clock.now();
  const { date } = chinaDateDigits(now);
  for (const { entry, combo } of candidates) {
    const selected = await io.send(command(0x00, 0xa4, 0x04, 0x00, entry.adfName, 256));
    if (!selected.ok) {
      if (selected.error === "card-gone") return outcome("try-again", R.cardGone);
      continue;
    }
    if (selected.value.sw !== 0x9000) continue;
    const fci = parseTlv(selected.value.data);
    if (!fci.ok || fci.value.length !== 1 || fci.value[0]!.tag !== 0x6f) continue;
    const dfName = fci.value[0]!.children?.find((t: Tlv) => t.tag === 0x84)?.value;
    // The FCI's DF name must be the application selected (Book B: else the next candidate).
    if (!dfName || !equal(dfName, entry.adfName)) continue;
    const terminalData = new Map<number, Bytes>([
      [0x9f66, combo.ttq],
      [0x9f02, bcd(txn.amount, 6)],
      [0x9f03, bcd(txn.otherAmount ?? 0, 6)],
      [0x9f1a, config.countryCode],
      [0x95, new Uint8Array(5)],
      [0x5f2a, config.currencyCode],
      [0x9a, fromHex(date.slice(2))],
      [0x9c, Uint8Array.of(txn.type ?? 0x00)],
      [0x9f37, txn.unpredictableNumber ?? env.random(4)],
      [0x9f21, fromHex(chinaDateDigits(now).time)],
      [0x9f35, Uint8Array.of(config.terminalType)],
      [0x9f33, config.capabilities],
      [0x9f1e, ifdSerialBytes(config)],
      [0x9f4e, ascii(config.merchantName.padEnd(20).slice(0, 20))],
      [0x9f09, combo.params.appVersion],
      [0x9f41, bcd(txn.sequenceCounter % 100000000, 4)],
      [0x84, dfName],
    ]);
    return runKernelC7(io, {
      fci: fci.value[0]!,
      label: entry.label,
      combo,
      config,
      terminalData,
      amount: txn.amount,
      transactionDate: date,
    });
  }
  return outcome("try-another-interface", R.noCandidate);
}
