/**
 * Transit cards on the virtual phone, through the cloud (小米公交):
 *
 * - `openTransitCard`: the phone's own rules first (one T-Union card), then the cloud opens the card (fee and
 *   first top-up paid) and the TSM installs it at the sync that follows;
 * - `topUpTransitCard` (圈存): the phone relays the cloud's challenge to its card (SELECT, INITIALIZE FOR LOAD,
 *   with GET TRANSACTION PROVE of a load left in flight), hands back the answers, runs the CREDIT FOR LOAD the
 *   cloud answers with MAC2 and reports the TAC. Every call is retried with the same request id until the cloud
 *   answers (a server restarting is only a wait), and a top-up that lost track starts again under the same id:
 *   the cloud's next challenge proves what became of the load in flight, so the money moves once;
 * - `transitSync`: the checks the cloud asks for (loads left in flight, a card proving its balance before it
 *   leaves the phone);
 * - `refundTransitCard` / `transferTransitCard`: the user's request, then the syncs that carry it through
 *   (field off, balance proven, applet deleted; for a transfer, installed on the new phone).
 *
 * The phone talks to its SE over its own host channel: one conversation at a time per SE (a lock), as the
 * card's load session would not survive two.
 */
import { randomBytes } from "node:crypto";
import { TapwalletError } from "../core/errors.js";
import type { Operation, OperationResult } from "../protocol/tsm-wire.js";
import { canAddTransitCard, transitCardsOn } from "../transit/index.js";
import type { SecureElement } from "../se/secure-element.js";
import { CloudRequestError } from "./cloud-client.js";
import { runOperations } from "./relay.js";
import type { SyncOutcome, Wallet } from "./wallet.js";

export type FundingChannel = "wechat" | "alipay" | "unionpay";

export interface TransitCardInfo {
  id: string;
  product: { id: string; name: { zh: string; en: string }; standard: string };
  cardNumber: string;
  aid: string;
  state: string;
  deviceId: string | null;
  balance: number;
  cardBalance: number | null;
  validFrom: string;
  validTo: string;
  openFee: { amount: number; refundable: boolean };
  monthSpend: number;
  predecessorId: string | null;
}

export interface TopUpInfo {
  id: string;
  requestId: string;
  cardId: string;
  amount: number;
  state: "pending" | "authorised" | "completed" | "failed";
  attempts: number;
  failure: { code: string; zh: string; en: string } | null;
}

export interface WorkflowInfo {
  id: string;
  kind: "refund" | "transfer";
  cardId: string;
  state: string;
  targetDeviceId: string | null;
  newCardId: string | null;
  provenBalance: number | null;
  refund: { balance: number; fee: number; total: number; channel: string };
  failure: { code: string; zh: string; en: string } | null;
}

interface Challenge {
  id: string;
  cardId: string;
  aid: string;
  operations: Operation[];
}

// ---- one conversation with the SE at a time ---------------------------------------------------------

const seLocks = new WeakMap<SecureElement, Promise<unknown>>();

async function withSe<T>(se: SecureElement, fn: () => Promise<T>): Promise<T> {
  const before = seLocks.get(se) ?? Promise.resolve();
  const run = before.then(fn, fn);
  seLocks.set(
    se,
    run.catch(() => undefined),
  );
  return run;
}

/** Runs the cloud's operations on the card over the phone's host channel (never throws). */
function relay(se: SecureElement, operations: readonly Operation[]): OperationResult[] {
  return runOperations(se, operations);
}

// ---- retrying -----------------------------------------------------------------------------------------

export interface Patience {
  /** How long to keep retrying a call the cloud did not answer (ms); default 30 s. */
  patienceMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The cloud did not answer (or answered with a server error): the same call may simply be sent again. */
function unanswered(e: unknown): boolean {
  if (e instanceof CloudRequestError) return e.status >= 500;
  return e instanceof TapwalletError && (e.code === "cloud_unreachable" || e.code === "cloud_bad_answer");
}

async function patiently<T>(fn: () => Promise<T>, o: Patience): Promise<T> {
  const deadline = Date.now() + (o.patienceMs ?? 30_000);
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    try {
      return await fn();
    } catch (e) {
      if (!unanswered(e) || Date.now() + wait > deadline) throw e;
      await sleep(wait * (0.5 + Math.random()));
    }
  }
}

const failureOf = (t: TopUpInfo) =>
  new TapwalletError(
    t.failure?.code ?? "topup_failed",
    t.failure?.zh ?? "充值失败",
    t.failure?.en ?? "The top-up failed",
    { topupId: t.id },
  );

/** Answers that mean: begin again with the same request id (the next challenge settles the rest). */
const RESTART = new Set([
  "stale_card_answer",
  "load_in_progress",
  "challenge_not_found",
  "card_answer_invalid",
]);
const MAX_ROUNDS = 12;

// ---- cards --------------------------------------------------------------------------------------------

export async function transitCards(wallet: Wallet): Promise<TransitCardInfo[]> {
  wallet.requireRegistered();
  return (
    await wallet.client().request<{ cards: TransitCardInfo[] }>("GET", "/api/v1/transit/cards", "device")
  ).cards;
}

export async function transitCard(wallet: Wallet, cardId: string): Promise<TransitCardInfo> {
  return wallet
    .client()
    .request<TransitCardInfo>("GET", `/api/v1/transit/cards/${encodeURIComponent(cardId)}`, "device");
}

export interface OpenOptions extends Patience {
  productId: string;
  firstTopUp: number;
  channel: FundingChannel;
  requestId?: string;
}

/** Opens a card on this phone: checks the phone's rules, pays, and syncs so the TSM installs it. */
export async function openTransitCard(
  wallet: Wallet,
  o: OpenOptions,
): Promise<{ card: TransitCardInfo; sync: SyncOutcome }> {
  wallet.requireRegistered();
  const onSe = transitCardsOn(wallet.phone.se).map((c) => c.product.id);
  const allowed = canAddTransitCard(onSe, o.productId);
  if (!allowed.ok)
    throw new TapwalletError(allowed.error.code, allowed.error.message.zh, allowed.error.message.en, {
      ...(allowed.error.successor ? { successorId: allowed.error.successor.id } : {}),
      ...(allowed.error.conflicting ? { conflictingId: allowed.error.conflicting.id } : {}),
    });
  const requestId = o.requestId ?? `open-${randomBytes(9).toString("base64url")}`;
  const card = await patiently(
    () =>
      wallet.client().request<TransitCardInfo>("POST", "/api/v1/transit/cards", "device", {
        requestId,
        productId: o.productId,
        firstTopUp: o.firstTopUp,
        channel: o.channel,
      }),
    o,
  );
  const sync = await withSe(wallet.phone.se, () => wallet.sync());
  const now = await transitCard(wallet, card.id);
  if (now.state !== "active") {
    const install = sync.scripts.findLast((s) => s.ref === card.id && s.kind === "install");
    throw new TapwalletError(
      "transit_install_failed",
      `${card.product.name.zh}未能装到手机上，款项已原路退回`,
      `${card.product.name.en} could not be installed on the phone; the payment went back`,
      { cardId: card.id, state: now.state, ...(install?.error ? { error: install.error.code } : {}) },
    );
  }
  return { card: now, sync };
}

// ---- top-up -------------------------------------------------------------------------------------------

export interface TopUpOptions extends Patience {
  channel?: FundingChannel;
  /** The id that makes retries safe (default: a fresh one per call). */
  requestId?: string;
}

/** Loads `amount` fen onto the card through the cloud; returns the completed top-up or throws its failure. */
export async function topUpTransitCard(
  wallet: Wallet,
  cardId: string,
  amount: number,
  o: TopUpOptions = {},
): Promise<TopUpInfo> {
  wallet.requireRegistered();
  const client = wallet.client();
  const se = wallet.phone.se;
  const requestId = o.requestId ?? `top-${randomBytes(9).toString("base64url")}`;
  const base = `/api/v1/transit/cards/${encodeURIComponent(cardId)}/topups`;
  return withSe(se, async () => {
    try {
      for (let round = 0; round < MAX_ROUNDS; round++) {
        const step = await patiently(
          () =>
            client.request<{ topup: TopUpInfo; challenge: Challenge | null }>("POST", base, "device", {
              requestId,
              amount,
              channel: o.channel ?? "wechat",
            }),
          o,
        );
        if (!step.challenge) {
          if (step.topup.state === "completed") return step.topup;
          throw failureOf(step.topup);
        }
        const topupPath = `/api/v1/transit/topups/${encodeURIComponent(step.topup.id)}`;
        const answers = relay(se, step.challenge.operations);
        let credit: { topup: TopUpInfo; operations: Operation[] | null };
        try {
          credit = await patiently(
            () =>
              client.request("POST", `${topupPath}/authorise`, "device", {
                challengeId: step.challenge!.id,
                results: answers,
              }),
            o,
          );
        } catch (e) {
          if (e instanceof CloudRequestError && RESTART.has(e.code)) {
            if (e.code === "load_in_progress") await sleep(50);
            continue;
          }
          throw e;
        }
        if (!credit.operations) {
          if (credit.topup.state === "completed") return credit.topup;
          if (credit.topup.state === "failed") throw failureOf(credit.topup);
          continue;
        }
        const tac = relay(se, credit.operations);
        const done = await patiently(
          () =>
            client.request<{ topup: TopUpInfo; retry: boolean }>("POST", `${topupPath}/confirm`, "device", {
              results: tac,
            }),
          o,
        );
        if (done.topup.state === "completed") return done.topup;
        if (done.topup.state === "failed") throw failureOf(done.topup);
      }
      throw new TapwalletError(
        "topup_unsettled",
        "充值尚未完成，请稍后同步",
        "The top-up is not settled yet; sync again later",
        { requestId },
      );
    } finally {
      se.host.reset();
    }
  });
}

// ---- transit sync -------------------------------------------------------------------------------------

export interface CheckOutcome {
  cardId: string;
  completed: string[];
  reversed: string[];
  proven: boolean;
}

/** Runs the checks the cloud asks for on this phone's transit cards. */
export async function transitSync(wallet: Wallet, o: Patience = {}): Promise<CheckOutcome[]> {
  wallet.requireRegistered();
  const client = wallet.client();
  const se = wallet.phone.se;
  return withSe(se, async () => {
    try {
      const sync = await patiently(
        () => client.request<{ checks: Challenge[] }>("POST", "/api/v1/transit/sync", "device", {}),
        o,
      );
      const out: CheckOutcome[] = [];
      for (const check of sync.checks) {
        const results = relay(se, check.operations);
        se.host.reset();
        const r = await patiently(
          () =>
            client.request<{
              card: { id: string };
              completed: string[];
              reversed: string[];
              proven: boolean;
            }>("POST", `/api/v1/transit/checks/${encodeURIComponent(check.id)}`, "device", { results }),
          o,
        );
        out.push({ cardId: r.card.id, completed: r.completed, reversed: r.reversed, proven: r.proven });
      }
      return out;
    } finally {
      se.host.reset();
    }
  });
}

// ---- refund and transfer ------------------------------------------------------------------------------

async function workflow(wallet: Wallet, kind: "refund" | "transfer", id: string): Promise<WorkflowInfo> {
  return wallet
    .client()
    .request<WorkflowInfo>("GET", `/api/v1/transit/${kind}s/${encodeURIComponent(id)}`, "device");
}

/** Carries a workflow on the old phone through: field off (TSM), balance proven (check), applet deleted. */
async function moveOut(wallet: Wallet, kind: "refund" | "transfer", id: string): Promise<WorkflowInfo> {
  const se = wallet.phone.se;
  for (let round = 0; ; round++) {
    const w = await workflow(wallet, kind, id);
    if (round >= 6) return w;
    if (w.state === "requested" || w.state === "verified") await withSe(se, () => wallet.sync());
    else if (w.state === "locked") await transitSync(wallet);
    else return w;
  }
}

/** 退卡: asks for the refund and carries it through on this phone; returns the workflow as it stands. */
export async function refundTransitCard(wallet: Wallet, cardId: string): Promise<WorkflowInfo> {
  wallet.requireRegistered();
  const started = await wallet
    .client()
    .request<WorkflowInfo>(
      "POST",
      `/api/v1/transit/cards/${encodeURIComponent(cardId)}/refund`,
      "device",
      {},
    );
  if (started.state === "done") return started;
  return moveOut(wallet, "refund", started.id);
}

/** 移卡: moves the card from `from` to the phone of `to` (same account); returns the workflow as it stands. */
export async function transferTransitCard(from: Wallet, cardId: string, to: Wallet): Promise<WorkflowInfo> {
  from.requireRegistered();
  const target = to.requireRegistered().deviceId;
  const started = await from
    .client()
    .request<WorkflowInfo>("POST", `/api/v1/transit/cards/${encodeURIComponent(cardId)}/transfer`, "device", {
      targetDeviceId: target,
    });
  let w = await moveOut(from, "transfer", started.id);
  if (w.state === "installing") {
    await withSe(to.phone.se, () => to.sync());
    w = await workflow(from, "transfer", started.id);
  }
  return w;
}

/** The transit card (instance AID) of a product on this phone's SE, if any. */
export function transitInstance(wallet: Wallet, productId: string): Uint8Array | undefined {
  return transitCardsOn(wallet.phone.se).find((t) => t.product.id === productId)?.aid;
}
