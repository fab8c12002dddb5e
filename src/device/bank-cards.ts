/**
 * Bank cards on the virtual phone, through the cloud's token service (银行卡闪付): the phone adds a UnionPay card
 * to itself in Mi Pay's steps — card number, expiry, the CVN2 of a credit card, the terms accepted — the bank
 * sends a code to the mobile number it keeps for the card, the code is entered, and the token the service issues
 * lands on the SE at the sync that follows (the TSM's install under SCP03). Then: the default card, suspend,
 * resume, delete, and each card's payments. Every call is the phone's own (signed with its device key); the
 * cloud answers for this phone's cards only.
 */
import { TapwalletError } from "../core/errors.js";
import { CARD_OWNERS } from "../protocol/tsm-wire.js";
import type { BankCardTransactionView } from "../protocol/wallet-views.js";
import type { PhoneCard } from "./phone.js";
import type { SyncOutcome, Wallet } from "./wallet.js";

export interface BankInfo {
  code: string;
  zh: string;
  en: string;
}

export interface BankCardInfo {
  id: string;
  deviceId: string;
  bank: BankInfo;
  kind: "debit" | "credit";
  /** The token's last four digits (the card number on the phone). */
  tokenLast4: string;
  /** The bank card's last four digits. */
  fundingLast4: string;
  status: "pending" | "active" | "suspended" | "deleted";
  suspendedBy: "user" | "issuer" | "wallet" | null;
  seState: "installing" | "installed" | "failed" | "removing" | "removed";
  default: boolean;
  createdAt: string;
  activatedAt: string | null;
}

export interface EnrolmentInfo {
  id: string;
  deviceId: string;
  bank: BankInfo;
  kind: "debit" | "credit";
  fundingLast4: string;
  /** Where the bank sent its code (masked). */
  codeSentTo: string;
  expiresInSeconds: number;
  resendAfterSeconds: number;
}

/** One of a card's payments, as the cloud lists them. */
export type CardPayment = BankCardTransactionView;

export interface BankTerms {
  version: string;
  title: { zh: string; en: string };
  summary: { zh: string; en: string };
}

export interface NewBankCard {
  /** Digits, spaces allowed. Sent to the cloud once; the phone never keeps it. */
  cardNumber: string;
  /** MM/YY */
  expiry: string;
  /** A credit card's 3-digit CVN2 (never stored). */
  cvn2?: string;
  /** The version of the terms the user accepted (`bankTerms`). */
  termsVersion: string;
}

const path = (id: string) => `/api/v1/bank-cards/${encodeURIComponent(id)}`;

/** The terms the user accepts when adding a card. */
export async function bankTerms(wallet: Wallet): Promise<BankTerms> {
  wallet.requireRegistered();
  return wallet.client().request<BankTerms>("GET", "/api/v1/bank-cards/terms", "device");
}

/** Step 1: the card's details; the bank checks them and sends its code to the number it keeps for the card. */
export async function startBankCard(wallet: Wallet, card: NewBankCard): Promise<EnrolmentInfo> {
  wallet.requireRegistered();
  return wallet.client().request<EnrolmentInfo>("POST", "/api/v1/bank-cards", "device", {
    cardNumber: card.cardNumber,
    expiry: card.expiry,
    termsVersion: card.termsVersion,
    ...(card.cvn2 !== undefined ? { cvn2: card.cvn2 } : {}),
  });
}

/**
 * Step 2: the bank's code. The token is issued and queued with the TSM; the sync that follows puts it on the
 * SE. Returns the card as the cloud sees it after the sync (`active` once it landed).
 */
export async function confirmBankCard(
  wallet: Wallet,
  enrolmentId: string,
  code: string,
): Promise<{ card: BankCardInfo; sync: SyncOutcome }> {
  wallet.requireRegistered();
  const added = await wallet
    .client()
    .request<BankCardInfo>(
      "POST",
      `/api/v1/bank-cards/enrolments/${encodeURIComponent(enrolmentId)}`,
      "device",
      {
        code,
      },
    );
  const sync = await wallet.sync();
  const card = await bankCard(wallet, added.id);
  if (card.status !== "active") {
    const install = sync.scripts.findLast((s) => s.ref === card.id && s.kind === "install");
    throw new TapwalletError(
      "bank_card_install_failed",
      `${card.bank.zh}卡（尾号 ${card.fundingLast4}）未能写入手机`,
      `the ${card.bank.en} card ending ${card.fundingLast4} could not be put on the phone`,
      { cardId: card.id, status: card.status, ...(install?.error ? { error: install.error.code } : {}) },
    );
  }
  return { card, sync };
}

/** This phone's bank cards (deleted ones included, as the cloud lists them). */
export async function bankCards(wallet: Wallet): Promise<BankCardInfo[]> {
  wallet.requireRegistered();
  return (await wallet.client().request<{ cards: BankCardInfo[] }>("GET", "/api/v1/bank-cards", "device"))
    .cards;
}

export async function bankCard(wallet: Wallet, cardId: string): Promise<BankCardInfo> {
  return wallet.client().request<BankCardInfo>("GET", path(cardId), "device");
}

/**
 * Suspend, resume, or make the default card: asked of the cloud (whoever suspended resumes), then a sync
 * carries the change to the SE's registry.
 */
export async function updateBankCard(
  wallet: Wallet,
  cardId: string,
  change: { status?: "active" | "suspended"; default?: true },
): Promise<{ card: BankCardInfo; sync: SyncOutcome }> {
  wallet.requireRegistered();
  await wallet.client().request<BankCardInfo>("PATCH", path(cardId), "device", change);
  const sync = await wallet.sync();
  return { card: await bankCard(wallet, cardId), sync };
}

/** What `setDefaultCard` changed: the card now the phone's default, and the bank card as the cloud sees it. */
export interface DefaultCardChange {
  /** The card on the phone (null only if the cloud's bank card is not on the SE yet). */
  card: PhoneCard | null;
  /** The bank card when the cloud made the change; null when the phone did. */
  bankCard: BankCardInfo | null;
}

/**
 * Makes a card the phone's default payment card (默认卡): the one way for every card. A bank card the cloud
 * manages (the token service put it on the phone: its owner is the token service, `phone bank` names it by
 * its id) changes through the cloud, which moves the default in its books and has the TSM change the SE's
 * registry at the sync that follows — the phone never goes behind the cloud's back. A payment card the cloud
 * does not manage (put on the SE without it) changes in the SE's registry here.
 */
export async function setDefaultCard(
  wallet: Wallet,
  target: { bankCardId: string },
): Promise<DefaultCardChange & { bankCard: BankCardInfo }>;
export async function setDefaultCard(wallet: Wallet, target: PhoneCard): Promise<DefaultCardChange>;
export async function setDefaultCard(
  wallet: Wallet,
  target: PhoneCard | { bankCardId: string },
): Promise<DefaultCardChange> {
  const bankCardId =
    "bankCardId" in target ? target.bankCardId : target.owner === CARD_OWNERS.bank ? target.ref : null;
  if (bankCardId === null)
    return { card: wallet.phone.setDefault((target as PhoneCard).aid), bankCard: null };
  const { card: bankCard } = await updateBankCard(wallet, bankCardId, { default: true });
  const card = wallet.phone.cards().find((c) => c.owner === CARD_OWNERS.bank && c.ref === bankCardId);
  return { card: card ?? null, bankCard };
}

/** Deletes the card: its token is dead at once; the sync that follows takes it off the SE. */
export async function deleteBankCard(
  wallet: Wallet,
  cardId: string,
): Promise<{ card: BankCardInfo; sync: SyncOutcome }> {
  wallet.requireRegistered();
  await wallet.client().request<BankCardInfo>("DELETE", path(cardId), "device");
  const sync = await wallet.sync();
  return { card: await bankCard(wallet, cardId), sync };
}

/** A card's payments as the issuer recorded them (approved and declined), newest first. */
export async function bankCardPayments(wallet: Wallet, cardId: string): Promise<CardPayment[]> {
  wallet.requireRegistered();
  return (
    await wallet
      .client()
      .request<{ transactions: CardPayment[] }>("GET", `${path(cardId)}/transactions`, "device")
  ).transactions;
}
