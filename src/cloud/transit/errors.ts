/** The transit service's refusals: a stable code, zh-CN and English, and details a client can act on. */
import { formatCny } from "../../core/money.js";
import type { AddRefusal, OpenRefusal, TransitProduct } from "../../transit/index.js";
import { deviceNotFound } from "../devices/service.js";
import { CloudError } from "../errors.js";

const productRef = (p: TransitProduct) => ({ id: p.id, name: p.name });

export const transitErrors = {
  cardNotFound: () =>
    new CloudError("not_found", "transit_card_not_found", "交通卡不存在", "No such transit card"),
  topUpNotFound: () => new CloudError("not_found", "topup_not_found", "充值记录不存在", "No such top-up"),
  workflowNotFound: () =>
    new CloudError("not_found", "transit_request_not_found", "申请不存在", "No such request"),
  challengeNotFound: () =>
    new CloudError("not_found", "challenge_not_found", "卡片核验请求不存在", "No such card check"),
  deviceNotFound,

  /** A closed product (names its successor or the advice) or an unknown one. */
  cannotOpen: (r: OpenRefusal) =>
    new CloudError(
      r.code === "unknown_product" ? "invalid" : "conflict",
      r.code,
      r.message.zh,
      r.message.en,
      {
        ...(r.successor ? { successor: productRef(r.successor) } : {}),
        ...(r.advice ? { advice: r.advice } : {}),
      },
    ),
  /** The phone's rules: one T-Union card per device, one card per product. */
  cannotAdd: (r: AddRefusal) =>
    new CloudError("conflict", r.code, r.message.zh, r.message.en, {
      ...(r.successor ? { successor: productRef(r.successor) } : {}),
      ...(r.conflicting ? { conflicting: productRef(r.conflicting) } : {}),
    }),
  modelNotSupported: (p: TransitProduct, model: { zh: string; en: string }) =>
    new CloudError(
      "refused",
      "model_not_supported",
      `${model.zh} 不支持${p.name.zh}`,
      `${model.en} does not support ${p.name.en}`,
      { product: productRef(p) },
    ),
  deviceUnavailable: () =>
    new CloudError(
      "conflict",
      "device_unavailable",
      "该设备已挂失或已移除",
      "That phone is reported lost or removed",
    ),
  unknownChannel: () =>
    new CloudError(
      "invalid",
      "unknown_channel",
      "不支持的支付方式（微信支付、支付宝、云闪付）",
      "Unsupported payment channel (wechat, alipay, unionpay)",
    ),
  amountOutOfRange: (p: TransitProduct) =>
    new CloudError(
      "invalid",
      "topup_out_of_range",
      `${p.name.zh}每次充值 ${formatCny(p.topUp.min)}–${formatCny(p.topUp.max)}`,
      `${p.name.en} top-ups are ${formatCny(p.topUp.min)}–${formatCny(p.topUp.max)}`,
      { min: p.topUp.min, max: p.topUp.max },
    ),
  overMaxBalance: (p: TransitProduct, balance: number | null) =>
    new CloudError(
      "conflict",
      "over_max_balance",
      `充值后将超过卡内余额上限 ${formatCny(p.maxBalance)}` +
        (balance === null
          ? ""
          : `（当前余额 ${formatCny(balance)}，最多可充 ${formatCny(p.maxBalance - balance)}）`),
      `The card would hold more than its maximum of ${formatCny(p.maxBalance)}` +
        (balance === null
          ? ""
          : ` (balance ${formatCny(balance)}; at most ${formatCny(p.maxBalance - balance)} more)`),
      { maxBalance: p.maxBalance, ...(balance === null ? {} : { balance, allowed: p.maxBalance - balance }) },
    ),
  cardNotActive: (state: string) =>
    new CloudError(
      "conflict",
      "card_not_active",
      "交通卡当前不可用（正在开卡、迁移或退卡）",
      "The card is not in service now (being issued, moved or refunded)",
      { state },
    ),
  notOnThisPhone: () =>
    new CloudError(
      "conflict",
      "card_not_on_this_phone",
      "这张交通卡不在本机上",
      "This transit card is not on this phone",
    ),
  loadInProgress: () =>
    new CloudError(
      "conflict",
      "load_in_progress",
      "这张卡有一笔充值尚未完成，请稍后再试",
      "Another top-up of this card is still under way; try again shortly",
    ),
  staleAnswer: () =>
    new CloudError(
      "conflict",
      "stale_card_answer",
      "卡片应答已过期，请重试",
      "The card's answer is out of date; try again",
    ),
  cardAnswerInvalid: (why: string) =>
    new CloudError(
      "conflict",
      "card_answer_invalid",
      "卡片应答无法核验",
      "The card's answer could not be verified",
      { reason: why },
    ),
  idempotencyConflict: () =>
    new CloudError(
      "conflict",
      "idempotency_conflict",
      "该请求编号已用于另一笔不同的操作",
      "This request id was already used for a different operation",
    ),
  workflowInProgress: () =>
    new CloudError(
      "conflict",
      "transit_request_in_progress",
      "这张卡已有进行中的退卡或迁移申请",
      "A refund or transfer of this card is already under way",
    ),
  sameDevice: () =>
    new CloudError("conflict", "same_device", "卡片已在这台设备上", "The card is already on that phone"),
  sztOncePerYear: () =>
    new CloudError(
      "conflict",
      "transfer_yearly_limit",
      "深圳通每个自然年只能迁移一次",
      "A Shenzhen Tong card can be moved once per calendar year",
    ),
  sztNoMoveBack: () =>
    new CloudError(
      "conflict",
      "transfer_no_move_back",
      "深圳通不能迁回原来的手机",
      "A Shenzhen Tong card cannot move back to a phone it was on",
    ),
  operatorUnknown: () =>
    new CloudError(
      "unauthenticated",
      "operator_unauthenticated",
      "运营方身份无效",
      "Unknown operator or wrong upload token",
    ),
  operatorMismatch: () =>
    new CloudError(
      "invalid",
      "operator_mismatch",
      "上传文件中的运营方与身份不符",
      "The upload names another operator",
    ),
};
