/**
 * ISO/IEC 7816-4 status words, with the PBOC e-purse (JR/T 0025) and GlobalPlatform additions the project
 * uses, each with its meaning in zh-CN and English.
 */
import type { Bilingual } from "./text.js";

export const SW = {
  OK: 0x9000,
  /** 61XX: XX more bytes available (GET RESPONSE). */
  BYTES_REMAINING: 0x6100,
  WARNING_EOF: 0x6282,
  SELECTED_FILE_INVALIDATED: 0x6283,
  VERIFY_FAILED: 0x6300,
  /** 63CX: verification failed, X tries left. */
  COUNTER: 0x63c0,
  /** GlobalPlatform CRS: activation conflicts with another applet (data: A0 { 4F AID }). */
  CRS_CONFLICT: 0x6330,
  STATE_UNCHANGED: 0x6400,
  MEMORY_FAILURE: 0x6581,
  WRONG_LENGTH: 0x6700,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  COMMAND_INCOMPATIBLE_WITH_FILE: 0x6981,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTH_METHOD_BLOCKED: 0x6983,
  REFERENCED_DATA_INVALIDATED: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  COMMAND_NOT_ALLOWED_NO_EF: 0x6986,
  SM_DATA_INCORRECT: 0x6988,
  WRONG_DATA: 0x6a80,
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  FILE_NOT_FOUND: 0x6a82,
  RECORD_NOT_FOUND: 0x6a83,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCED_DATA_NOT_FOUND: 0x6a88,
  WRONG_P1P2: 0x6b00,
  /** 6CXX: wrong Le, XX is the exact length. */
  WRONG_LE: 0x6c00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  UNKNOWN: 0x6f00,
  /** PBOC: MAC invalid. */
  MAC_INVALID: 0x9302,
  /** PBOC: application permanently locked. */
  APP_PERMANENTLY_LOCKED: 0x9303,
  /** PBOC: insufficient balance. */
  INSUFFICIENT_BALANCE: 0x9401,
  /** PBOC: transaction counter reached its maximum. */
  COUNTER_AT_MAXIMUM: 0x9402,
  /** PBOC: key index not supported. */
  KEY_INDEX_NOT_SUPPORTED: 0x9403,
  /** PBOC: required MAC not available. */
  MAC_NOT_AVAILABLE: 0x9406,
} as const;

const EXACT: Record<number, Bilingual> = {
  [SW.OK]: { zh: "成功", en: "success" },
  0x6200: { zh: "警告：非易失存储器状态未改变", en: "warning: non-volatile memory unchanged" },
  0x6281: { zh: "警告：返回的数据可能已损坏", en: "warning: part of returned data may be corrupted" },
  [SW.WARNING_EOF]: {
    zh: "警告：读取数据前已到文件或记录末尾",
    en: "warning: end of file or record reached before reading Ne bytes",
  },
  [SW.SELECTED_FILE_INVALIDATED]: {
    zh: "警告：选中的文件已失效（应用锁定）",
    en: "warning: selected file invalidated (application locked)",
  },
  [SW.VERIFY_FAILED]: { zh: "验证失败", en: "verification failed" },
  [SW.CRS_CONFLICT]: {
    zh: "激活冲突：另一个应用已响应同一 AID",
    en: "activation conflict: another applet answers the same AID",
  },
  [SW.STATE_UNCHANGED]: {
    zh: "执行错误：非易失存储器状态未改变",
    en: "execution error: non-volatile memory unchanged",
  },
  [SW.MEMORY_FAILURE]: { zh: "存储器故障", en: "memory failure" },
  [SW.WRONG_LENGTH]: { zh: "长度错误", en: "wrong length" },
  [SW.LOGICAL_CHANNEL_NOT_SUPPORTED]: { zh: "不支持逻辑通道", en: "logical channel not supported" },
  [SW.SECURE_MESSAGING_NOT_SUPPORTED]: { zh: "不支持安全报文", en: "secure messaging not supported" },
  [SW.COMMAND_INCOMPATIBLE_WITH_FILE]: {
    zh: "命令与文件结构不相容",
    en: "command incompatible with file structure",
  },
  [SW.SECURITY_STATUS_NOT_SATISFIED]: { zh: "不满足安全状态", en: "security status not satisfied" },
  [SW.AUTH_METHOD_BLOCKED]: { zh: "认证方法锁定", en: "authentication method blocked" },
  [SW.REFERENCED_DATA_INVALIDATED]: { zh: "引用数据无效", en: "referenced data invalidated" },
  [SW.CONDITIONS_NOT_SATISFIED]: { zh: "使用条件不满足", en: "conditions of use not satisfied" },
  [SW.COMMAND_NOT_ALLOWED_NO_EF]: {
    zh: "命令不允许（无当前文件）",
    en: "command not allowed (no current EF)",
  },
  0x6987: { zh: "缺少安全报文数据对象", en: "expected secure messaging data objects missing" },
  [SW.SM_DATA_INCORRECT]: { zh: "安全报文数据对象不正确", en: "secure messaging data objects incorrect" },
  [SW.WRONG_DATA]: { zh: "数据域参数不正确", en: "incorrect parameters in the data field" },
  [SW.FUNCTION_NOT_SUPPORTED]: { zh: "功能不支持", en: "function not supported" },
  [SW.FILE_NOT_FOUND]: { zh: "未找到文件或应用", en: "file or application not found" },
  [SW.RECORD_NOT_FOUND]: { zh: "未找到记录", en: "record not found" },
  [SW.NOT_ENOUGH_MEMORY]: { zh: "文件空间不足", en: "not enough memory space in the file" },
  [SW.INCORRECT_P1P2]: { zh: "参数 P1、P2 不正确", en: "incorrect parameters P1-P2" },
  [SW.REFERENCED_DATA_NOT_FOUND]: { zh: "未找到引用数据（密钥）", en: "referenced data (key) not found" },
  [SW.WRONG_P1P2]: { zh: "参数错误（偏移超出文件）", en: "wrong parameters P1-P2 (offset outside the file)" },
  [SW.INS_NOT_SUPPORTED]: { zh: "指令码不支持或无效", en: "instruction code not supported or invalid" },
  [SW.CLA_NOT_SUPPORTED]: { zh: "类别不支持", en: "class not supported" },
  [SW.UNKNOWN]: { zh: "未知错误", en: "no precise diagnosis" },
  [SW.MAC_INVALID]: { zh: "MAC 无效", en: "MAC invalid" },
  [SW.APP_PERMANENTLY_LOCKED]: { zh: "应用永久锁定", en: "application permanently locked" },
  [SW.INSUFFICIENT_BALANCE]: { zh: "余额不足", en: "insufficient balance" },
  [SW.COUNTER_AT_MAXIMUM]: { zh: "交易计数器已达最大值", en: "transaction counter at its maximum" },
  [SW.KEY_INDEX_NOT_SUPPORTED]: { zh: "密钥索引不支持", en: "key index not supported" },
  [SW.MAC_NOT_AVAILABLE]: { zh: "所需 MAC 不可用", en: "required MAC not available" },
};

/** The meaning of a status word in zh-CN and English, including the parameterised 61XX, 63CX and 6CXX. */
export function describeSw(sw: number): Bilingual {
  const exact = EXACT[sw];
  if (exact) return exact;
  const hi = sw >> 8;
  const lo = sw & 0xff;
  if (hi === 0x61) return { zh: `还有 ${lo || 256} 字节可取`, en: `${lo || 256} more bytes available` };
  if (hi === 0x6c)
    return { zh: `Le 错误，正确长度为 ${lo || 256}`, en: `wrong Le, exact length is ${lo || 256}` };
  if ((sw & 0xfff0) === SW.COUNTER)
    return { zh: `验证失败，还可尝试 ${lo & 0x0f} 次`, en: `verification failed, ${lo & 0x0f} tries left` };
  if (hi === 0x62) return { zh: "警告：状态未改变", en: "warning: state unchanged" };
  if (hi === 0x63) return { zh: "警告：状态已改变", en: "warning: state changed" };
  if (hi === 0x64 || hi === 0x65) return { zh: "执行错误", en: "execution error" };
  if (hi === 0x68) return { zh: "CLA 中的功能不支持", en: "functions in CLA not supported" };
  if (hi === 0x69) return { zh: "命令不允许", en: "command not allowed" };
  if (hi === 0x6a) return { zh: "参数错误", en: "wrong parameters" };
  return { zh: "未知状态字", en: "unknown status word" };
}

export function isSuccess(sw: number): boolean {
  return sw === SW.OK || sw >> 8 === 0x61;
}
