/**
 * The transit subcommands of `tapwallet phone` (the phone's wallet through the cloud, src/device/transit.ts):
 *
 *   phone open PRODUCT --top-up YUAN [--channel wechat|alipay|unionpay]    开卡: fee + first top-up, installed at once
 *   phone topup CARD YUAN [--channel …] [--request-id ID]                  充值 (圈存), retried safely under its id
 *   phone refund CARD                                                      退卡: balance (and a refundable fee) paid back
 *   phone transfer CARD --to PHONE | --to-state DIR                        移卡 to another phone of this machine
 *   phone transit [--json]                                                 the account's transit cards, after a transit sync
 *
 * CARD is the card's id, its number, its product id (tu-jingjinji, shanghai…) or a part of its name.
 */
import type { Command } from "commander";
import { TapwalletError } from "../../core/errors.js";
import { formatCny, parseYuan } from "../../core/money.js";
import {
  type FundingChannel,
  type TransitCardInfo,
  type WorkflowInfo,
  openTransitCard,
  refundTransitCard,
  topUpTransitCard,
  transferTransitCard,
  transitCards,
  transitSync,
} from "../../device/transit.js";
import { Wallet } from "../../device/index.js";
import { type PhoneSelector, openPhone, out, phoneSelectorOptions } from "../phone-select.js";

const CHANNELS: readonly FundingChannel[] = ["wechat", "alipay", "unionpay"];

function channelOf(value: string | undefined): FundingChannel {
  const c = (value ?? "wechat").toLowerCase();
  if (!(CHANNELS as readonly string[]).includes(c))
    throw new TapwalletError(
      "unknown_channel",
      `支付方式须为 ${CHANNELS.join("、")}：${value}`,
      `the channel is one of ${CHANNELS.join(", ")}: ${value}`,
    );
  return c as FundingChannel;
}

function yuan(text: string): number {
  try {
    return parseYuan(text);
  } catch {
    throw new TapwalletError("bad_amount", `金额无效（元）：${text}`, `not an amount in yuan: ${text}`);
  }
}

/** The account's card a user named by id, number, product id or a part of its name (live cards first). */
async function findTransitCard(wallet: Wallet, query: string): Promise<TransitCardInfo> {
  const q = query.trim();
  const cards = await transitCards(wallet);
  const live = (c: TransitCardInfo) => !["refunded", "failed", "replaced"].includes(c.state);
  const exact = cards.filter((c) => c.id === q || c.cardNumber === q);
  const byProduct = cards.filter((c) => live(c) && c.product.id === q);
  const byName = cards.filter(
    (c) =>
      live(c) && (c.product.name.zh.includes(q) || c.product.name.en.toLowerCase().includes(q.toLowerCase())),
  );
  const hits = exact.length > 0 ? exact : byProduct.length > 0 ? byProduct : byName;
  if (hits.length !== 1)
    throw new TapwalletError(
      "transit_card_not_found",
      hits.length > 1 ? `「${q}」对应多张交通卡，请用卡号或编号` : `没有交通卡「${q}」`,
      hits.length > 1
        ? `"${q}" matches several transit cards; use the number or the id`
        : `no transit card "${q}"`,
    );
  return hits[0]!;
}

function transitCardText(c: TransitCardInfo): string {
  const onCard = c.cardBalance === null ? "" : `  卡内 / on card ${formatCny(c.cardBalance)}`;
  return (
    `${c.product.name.zh} / ${c.product.name.en}  ${c.cardNumber}  ${c.state}\n` +
    `  余额 / balance ${formatCny(c.balance)}${onCard}  本月乘车 / rides this month ${formatCny(c.monthSpend)}  (${c.id})`
  );
}

function workflowText(w: WorkflowInfo): string {
  const what = w.kind === "refund" ? "退卡 / refund" : "移卡 / transfer";
  const lines = [`${what} ${w.id}: ${w.state}`];
  if (w.provenBalance !== null)
    lines.push(`  卡片证明的余额 / balance the card proved: ${formatCny(w.provenBalance)}`);
  if (w.refund.total > 0)
    lines.push(
      `  退回 / paid back to ${w.refund.channel}: ${formatCny(w.refund.total)}` +
        (w.refund.fee > 0 ? ` (含开卡费 / incl. the card fee ${formatCny(w.refund.fee)})` : ""),
    );
  if (w.newCardId) lines.push(`  新卡 / new card: ${w.newCardId}`);
  if (w.failure) lines.push(`  ${w.failure.zh} / ${w.failure.en}`);
  return lines.join("\n");
}

export function registerTransitPhoneCommands(phone: Command): void {
  const wallet = (o: PhoneSelector) => new Wallet(openPhone(o));

  phoneSelectorOptions(
    phone
      .command("open")
      .description("开交通卡（开卡费 + 首次充值）/ open a transit card (fee + first top-up)")
      .argument("<product>", "产品 / product id, e.g. tu-jingjinji, shanghai (tapwallet transit products)")
      .requiredOption("--top-up <yuan>", "首次充值（元）/ first top-up, yuan")
      .option("--channel <channel>", "支付方式 / wechat | alipay | unionpay", "wechat")
      .option("--request-id <id>", "请求编号（重试不重复扣款）/ request id (a retry never pays twice)"),
  ).action(
    async (product: string, o: PhoneSelector & { topUp: string; channel?: string; requestId?: string }) => {
      const { card } = await openTransitCard(wallet(o), {
        productId: product,
        firstTopUp: yuan(o.topUp),
        channel: channelOf(o.channel),
        ...(o.requestId ? { requestId: o.requestId } : {}),
      });
      const fee = card.openFee.amount > 0 ? `，开卡费 / card fee ${formatCny(card.openFee.amount)}` : "";
      out(`已开卡 / opened${fee}\n${transitCardText(card)}`);
    },
  );

  phoneSelectorOptions(
    phone
      .command("topup")
      .description("交通卡充值（圈存）/ top up a transit card (online load)")
      .argument("<card>", "卡片 / card id, number, product or name")
      .argument("<yuan>", "金额（元）/ amount, yuan")
      .option("--channel <channel>", "支付方式 / wechat | alipay | unionpay", "wechat")
      .option("--request-id <id>", "请求编号（重试不重复扣款）/ request id (a retry never pays twice)"),
  ).action(
    async (query: string, amount: string, o: PhoneSelector & { channel?: string; requestId?: string }) => {
      const w = wallet(o);
      const card = await findTransitCard(w, query);
      const t = await topUpTransitCard(w, card.id, yuan(amount), {
        channel: channelOf(o.channel),
        ...(o.requestId ? { requestId: o.requestId } : {}),
      });
      const after = await findTransitCard(w, card.id);
      out(`已充值 / topped up ${formatCny(t.amount)} (${t.id})\n${transitCardText(after)}`);
    },
  );

  phoneSelectorOptions(
    phone
      .command("refund")
      .description("退卡：余额（及可退的开卡费）退回原支付渠道 / refund a card to the channel that paid")
      .argument("<card>", "卡片 / card id, number, product or name"),
  ).action(async (query: string, o: PhoneSelector) => {
    const w = wallet(o);
    const card = await findTransitCard(w, query);
    out(workflowText(await refundTransitCard(w, card.id)));
  });

  phoneSelectorOptions(
    phone
      .command("transfer")
      .description("移卡到本机的另一部虚拟手机 / move a card to another virtual phone (same account)")
      .argument("<card>", "卡片 / card id, number, product or name")
      .option("--to <phone>", "目标手机名称 / the target phone's name")
      .option("--to-state <dir>", "目标手机的状态目录 / the target phone's state directory"),
  ).action(async (query: string, o: PhoneSelector & { to?: string; toState?: string }) => {
    if (!o.to && !o.toState)
      throw new TapwalletError("no_target", "请用 --to 指定目标手机", "name the target phone with --to");
    const from = wallet(o);
    const to = wallet(o.toState ? { state: o.toState } : { name: o.to! });
    const card = await findTransitCard(from, query);
    out(workflowText(await transferTransitCard(from, card.id, to)));
  });

  phoneSelectorOptions(
    phone
      .command("transit")
      .description("我的交通卡（先做交通卡同步）/ my transit cards (after a transit sync)")
      .option("--json", "输出 JSON / print JSON"),
  ).action(async (o: PhoneSelector & { json?: boolean }) => {
    const w = wallet(o);
    const checks = await transitSync(w);
    const cards = await transitCards(w);
    if (o.json) return out(JSON.stringify({ cards, checks }));
    for (const c of checks)
      if (c.completed.length + c.reversed.length > 0)
        out(
          `已结清中断的充值 / settled interrupted top-ups: ${c.completed.length} 完成 / completed, ${c.reversed.length} 退回 / reversed`,
        );
    out(cards.length === 0 ? "暂无交通卡 / no transit cards yet" : cards.map(transitCardText).join("\n"));
  });
}
