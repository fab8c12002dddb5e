/**
 * The bank-card subcommands of `tapwallet phone` (银行卡, through the cloud's token service,
 * src/device/bank-cards.ts):
 *
 *   phone bank add --number N --expiry MM/YY [--cvn2 NNN] --accept-terms [--no-prompt]
 *                                     the card's details; the bank sends a code to the number it keeps for the
 *                                     card; the code is asked for at the prompt (or: --no-prompt, then verify)
 *   phone bank verify ENROLMENT CODE  the bank's code: the token is issued and installed on the SE at once
 *   phone bank cards [--json]         this phone's bank cards
 *   phone bank default | suspend | resume | delete CARD
 *   phone bank payments CARD [--json] the card's payments (approved and declined)
 *
 * CARD is the card's id, its token's or the bank card's last four digits, or the bank (ICBC, 工商…).
 * The card number and CVN2 go to the cloud once and are never written on the phone or printed.
 */
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { TapwalletError } from "../../core/errors.js";
import { formatCny } from "../../core/money.js";
import {
  type BankCardInfo,
  type CardPayment,
  type EnrolmentInfo,
  bankCardPayments,
  bankCards,
  bankTerms,
  confirmBankCard,
  deleteBankCard,
  setDefaultCard,
  startBankCard,
  updateBankCard,
} from "../../device/bank-cards.js";
import { Wallet } from "../../device/index.js";
import { type PhoneSelector, openPhone, out, phoneSelectorOptions } from "../phone-select.js";

const statusText: Record<BankCardInfo["status"], string> = {
  pending: "写入中 / pending",
  active: "已启用 / active",
  suspended: "已暂停 / suspended",
  deleted: "已删除 / deleted",
};
const byText: Record<string, string> = {
  user: "用户 / user",
  issuer: "发卡行 / issuer",
  wallet: "钱包（手机挂失）/ wallet (phone lost)",
};
const kindText = { debit: "借记卡 / debit", credit: "信用卡 / credit" } as const;

function bankCardText(c: BankCardInfo): string {
  const by = c.suspendedBy ? `（${byText[c.suspendedBy] ?? c.suspendedBy}）` : "";
  return (
    `${c.bank.zh} / ${c.bank.en}  ${kindText[c.kind]} ••${c.fundingLast4}  令牌 / token ••${c.tokenLast4}  ` +
    `${statusText[c.status]}${by}${c.default ? "  [默认 / default]" : ""}  (${c.id})`
  );
}

function paymentText(p: CardPayment): string {
  return (
    `${p.at}  ${formatCny(p.amount)}  ${p.merchantName ?? p.merchantId} (${p.terminalId})  ` +
    `${p.approved ? "批准 / approved" : "拒绝 / declined"} ${p.responseCode}` +
    (p.authorisationCode ? `  授权码 / auth code ${p.authorisationCode}` : "") +
    (p.clearedAt ? `  脱机交易，${p.clearedAt} 清算 / offline, cleared ${p.clearedAt}` : "")
  );
}

function enrolmentText(e: EnrolmentInfo): string {
  return (
    `${e.bank.zh} / ${e.bank.en} ${kindText[e.kind]} ••${e.fundingLast4}: ` +
    `银行验证码已发送至 ${e.codeSentTo}，${Math.round(e.expiresInSeconds / 60)} 分钟内有效 / ` +
    `the bank's code went to ${e.codeSentTo}, valid ${Math.round(e.expiresInSeconds / 60)} min  (${e.id})`
  );
}

/** The phone's live bank card a user named by id, last four digits (token or card) or bank. */
async function findBankCard(wallet: Wallet, query: string): Promise<BankCardInfo> {
  const q = query.trim();
  const cards = (await bankCards(wallet)).filter((c) => c.status !== "deleted");
  const byId = cards.filter((c) => c.id === q);
  const byDigits = /^\d{4}$/.test(q) ? cards.filter((c) => c.tokenLast4 === q || c.fundingLast4 === q) : [];
  const byBank = cards.filter(
    (c) =>
      c.bank.code.toLowerCase() === q.toLowerCase() ||
      c.bank.zh.includes(q) ||
      c.bank.en.toLowerCase().includes(q.toLowerCase()),
  );
  const hits = byId.length > 0 ? byId : byDigits.length > 0 ? byDigits : byBank;
  if (hits.length !== 1)
    throw new TapwalletError(
      "bank_card_not_found",
      hits.length > 1 ? `「${q}」对应多张银行卡，请用尾号或编号` : `本机没有银行卡「${q}」`,
      hits.length > 1
        ? `"${q}" matches several bank cards; use the last four digits or the id`
        : `no bank card "${q}" on this phone`,
    );
  return hits[0]!;
}

async function promptCode(): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question("银行验证码 / the bank's code: ")).trim();
  } finally {
    rl.close();
  }
}

async function verify(wallet: Wallet, enrolmentId: string, code: string): Promise<string> {
  const { card } = await confirmBankCard(wallet, enrolmentId, code);
  return `已添加并写入手机 / added and installed on the phone: ${bankCardText(card)}`;
}

export function registerBankPhoneCommands(phone: Command): void {
  const wallet = (o: PhoneSelector) => new Wallet(openPhone(o));
  const bank = phone.command("bank").description("银行卡（闪付）/ bank cards (QuickPass) through the cloud");

  phoneSelectorOptions(
    bank
      .command("add")
      .description("添加银联卡：银行向预留手机号发送验证码 / add a UnionPay card: the bank sends a code")
      .requiredOption("--number <digits>", "卡号 / card number")
      .requiredOption("--expiry <MM/YY>", "有效期 / expiry, MM/YY")
      .option("--cvn2 <digits>", "信用卡安全码 / a credit card's CVN2 (3 digits)")
      .option("--accept-terms", "同意服务条款 / accept the bank-card terms")
      .option(
        "--no-prompt",
        "不等待验证码（之后用 phone bank verify）/ do not wait for the code (then phone bank verify)",
      ),
  ).action(
    async (
      o: PhoneSelector & {
        number: string;
        expiry: string;
        cvn2?: string;
        acceptTerms?: boolean;
        prompt: boolean;
      },
    ) => {
      const w = wallet(o);
      const terms = await bankTerms(w);
      if (!o.acceptTerms)
        throw new TapwalletError(
          "terms_not_accepted",
          `请阅读并同意《${terms.title.zh}》（${terms.version}）：加上 --accept-terms`,
          `read and accept "${terms.title.en}" (${terms.version}): add --accept-terms`,
        );
      const e = await startBankCard(w, {
        cardNumber: o.number,
        expiry: o.expiry,
        termsVersion: terms.version,
        ...(o.cvn2 !== undefined ? { cvn2: o.cvn2 } : {}),
      });
      out(enrolmentText(e));
      if (!o.prompt) {
        out(`然后 / then: tapwallet phone bank verify ${e.id} CODE`);
        return;
      }
      out(await verify(w, e.id, await promptCode()));
    },
  );

  phoneSelectorOptions(
    bank
      .command("verify")
      .description("输入银行验证码，卡片写入手机 / the bank's code: the card is put on the phone")
      .argument("<enrolment>", "添加申请编号 / the enrolment id (phone bank add)")
      .argument("<code>", "银行验证码 / the bank's code"),
  ).action(async (enrolment: string, code: string, o: PhoneSelector) =>
    out(await verify(wallet(o), enrolment, code)),
  );

  phoneSelectorOptions(
    bank
      .command("cards")
      .description("本机的银行卡 / this phone's bank cards")
      .option("--json", "输出 JSON / print JSON"),
  ).action(async (o: PhoneSelector & { json?: boolean }) => {
    const cards = await bankCards(wallet(o));
    if (o.json) return out(JSON.stringify(cards));
    out(
      cards.length === 0
        ? "本机还没有银行卡 / no bank cards on this phone"
        : cards.map(bankCardText).join("\n"),
    );
  });

  const change = (
    verb: string,
    description: string,
    done: { zh: string; en: string },
    act: (w: Wallet, id: string) => Promise<{ card: BankCardInfo }>,
  ) =>
    phoneSelectorOptions(
      bank
        .command(verb)
        .description(description)
        .argument("<card>", "编号、尾号或银行 / id, last four digits or bank"),
    ).action(async (query: string, o: PhoneSelector) => {
      const w = wallet(o);
      const card = await findBankCard(w, query);
      const r = await act(w, card.id);
      out(`${done.zh} / ${done.en}: ${bankCardText(r.card)}`);
    });

  change(
    "default",
    "设为默认支付卡 / make it the default payment card",
    { zh: "默认卡", en: "default card" },
    // The same way as `phone default` for a card the cloud manages (src/device/bank-cards.ts setDefaultCard).
    (w, id) => setDefaultCard(w, { bankCardId: id }).then((r) => ({ card: r.bankCard })),
  );
  change("suspend", "暂停使用 / suspend the card", { zh: "已暂停", en: "suspended" }, (w, id) =>
    updateBankCard(w, id, { status: "suspended" }),
  );
  change("resume", "恢复使用 / resume the card", { zh: "已恢复", en: "resumed" }, (w, id) =>
    updateBankCard(w, id, { status: "active" }),
  );
  change(
    "delete",
    "删除（令牌立即失效）/ delete (the token dies at once)",
    { zh: "已删除", en: "deleted" },
    (w, id) => deleteBankCard(w, id),
  );

  phoneSelectorOptions(
    bank
      .command("payments")
      .description("银行卡交易记录 / the card's payments")
      .argument("<card>", "编号、尾号或银行 / id, last four digits or bank")
      .option("--json", "输出 JSON / print JSON"),
  ).action(async (query: string, o: PhoneSelector & { json?: boolean }) => {
    const w = wallet(o);
    const card = await findBankCard(w, query);
    const payments = await bankCardPayments(w, card.id);
    if (o.json) return out(JSON.stringify(payments));
    out(payments.length === 0 ? "暂无交易 / no payments yet" : payments.map(paymentText).join("\n"));
  });
}
