/**
 * The sales slip (签购单) of a payment, Chinese first with English beside, as a Chinese POS prints it. The
 * card number is masked (first 6, last 4); for a phone it is the token, never the funding card.
 */
import { toHex } from "../../core/bytes.js";
import { chinaTime } from "../../core/clock.js";
import { formatYuan } from "../../core/money.js";
import type { CvmPerformed } from "../authorisation.js";
import { maskPan } from "../track2.js";
import type { TerminalConfig } from "./config.js";
import type { PaymentResult } from "./pos.js";

const CVM_LINE: Readonly<Record<CvmPerformed, string>> = {
  none: "免密免签 / No PIN or signature required",
  cdcvm: "持卡人已在手机上验证 / Cardholder verified on the phone (CDCVM)",
  signature: "持卡人签名 / Cardholder signature: ____________",
  "online-pin": "联机密码 / Online PIN",
};

const STATUS_LINE: Readonly<Record<PaymentResult["status"], string>> = {
  approved: "交易成功 / APPROVED",
  declined: "交易拒绝 / DECLINED",
  "try-again": "请重新挥卡 / TAP AGAIN",
  "try-another-interface": "请插卡或刷卡 / USE ANOTHER INTERFACE",
};

const p2 = (n: number) => String(n).padStart(2, "0");

export function formatReceipt(r: PaymentResult, config: TerminalConfig): string[] {
  const t = chinaTime(r.at);
  const card = r.outcome.card;
  const lines = [
    "签购单 / SALES SLIP",
    `商户名称 / MERCHANT: ${config.merchantName}`,
    `商户编号 / MERCHANT NO.: ${config.merchantId}`,
    `终端编号 / TERMINAL NO.: ${config.terminalId}`,
  ];
  if (card) {
    lines.push(`卡号 / CARD NO.: ${maskPan(card.pan)} (闪付 QuickPass)`);
    lines.push(`应用 / APP: ${card.label ?? ""} ${toHex(card.aid)}`.replace("  ", " "));
  }
  lines.push("交易类型 / TYPE: 消费 / SALE");
  lines.push(
    `日期时间 / DATE/TIME: ${t.year}-${p2(t.month)}-${p2(t.day)} ${p2(t.hour)}:${p2(t.minute)}:${p2(t.second)}`,
  );
  lines.push(`凭证号 / TRACE NO.: ${String(r.stan).padStart(6, "0")}`);
  const auth = r.authorisation?.response;
  if (auth?.authorisationCode) lines.push(`授权码 / AUTH CODE: ${auth.authorisationCode}`);
  if (card) lines.push(`ATC: ${toHex(card.atc)}  ${card.cryptogramType}: ${toHex(card.cryptogram)}`);
  lines.push(`金额 / AMOUNT: RMB ${formatYuan(r.amount)}`);
  const how =
    r.decidedBy === "issuer"
      ? ` (联机 online, ${auth?.responseCode ?? "--"})`
      : r.status === "approved"
        ? " (脱机 offline)"
        : "";
  lines.push(`结果 / RESULT: ${STATUS_LINE[r.status]}${how}`);
  lines.push(`原因 / REASON: ${r.reason.zh} / ${r.reason.en}`);
  if (r.status === "approved") lines.push(CVM_LINE[r.outcome.cvm]);
  if (r.issuerAuthentication === "verified") lines.push("发卡行认证通过 / Issuer authenticated by the card");
  if (r.issuerAuthentication === "failed")
    lines.push("发卡行认证失败 / Issuer authentication FAILED on the card");
  if (card?.offlineBalance !== undefined)
    lines.push(`脱机可用余额 / OFFLINE BALANCE: RMB ${formatYuan(card.offlineBalance)}`);
  return lines;
}
