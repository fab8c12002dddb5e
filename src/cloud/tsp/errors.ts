/** The token service's refusals, each with a stable code and a message in zh-CN and English (no card number). */
import { CloudError } from "../errors.js";
import type { PanProblem } from "./card-input.js";

export function cardNotFound(): CloudError {
  return new CloudError("not_found", "bank_card_not_found", "银行卡不存在", "No such bank card");
}

export function enrolmentNotFound(): CloudError {
  return new CloudError("not_found", "enrolment_not_found", "添加请求不存在", "No such card enrolment");
}

export function panProblem(p: PanProblem): CloudError {
  if (p === "not_supported")
    return new CloudError(
      "invalid",
      "card_not_supported",
      "暂不支持该卡：仅支持所列银行的银联借记卡和信用卡",
      "This card is not supported: only UnionPay debit and credit cards of the listed banks",
    );
  return new CloudError(
    "invalid",
    "invalid_card_number",
    "请输入正确的银行卡号",
    "Enter a valid card number",
    {
      reason: p,
    },
  );
}

export function lockedError(retryAfterMs: number): CloudError {
  const minutes = Math.ceil(retryAfterMs / 60_000);
  return new CloudError(
    "rate_limited",
    "otp_locked",
    `验证码错误次数过多，该卡已锁定，请 ${minutes} 分钟后再试`,
    `Too many wrong codes; this card is locked, try again in ${minutes} min`,
    { retryAfterSeconds: Math.ceil(retryAfterMs / 1000) },
  );
}

export function tooManyCards(max: number): CloudError {
  return new CloudError(
    "conflict",
    "too_many_bank_cards",
    `每台手机最多添加 ${max} 张银行卡，请先删除一张`,
    `A phone holds at most ${max} bank cards; delete one first`,
    { max },
  );
}

export function deviceLost(): CloudError {
  return new CloudError(
    "conflict",
    "device_lost",
    "该手机已挂失，其银行卡已暂停并将被清除",
    "This phone is reported lost; its bank cards are suspended and will be wiped",
  );
}

export function alreadyAdded(): CloudError {
  return new CloudError(
    "conflict",
    "card_already_added",
    "该卡已在这台手机上",
    "This card is already on this phone",
  );
}
