/**
 * UnionPay BINs (the first six digits of a card number) → issuing bank, card kind and card-number length,
 * as data. Only rows on which two independent public BIN lists agree (bank and debit/credit) are kept;
 * quasi-credit (准贷记卡) ranges and rows where the lists disagree are left out. Sources, cited per row:
 *
 *   S1  github.com/hexindai/bcbc `data/bin.csv` @0abf86a — bin, bank code, DC/CC, length (the lengths
 *       below are S1's)
 *   S2  github.com/qq1643240/cq1.github.io `json.js` @f534c9c — bin → "bank-card name-借记卡/贷记卡"
 *   S3  github.com/clover1138255748/hswl `…/fund/enums/BinEnum1.java` — BOC ranges with kind and length
 *
 * Our own token range (629977, docs/DECISIONS.md "QuickPass: card layout…") is in no row: a token is never
 * accepted as a funding card, and a funding card never looks like a token. To add a bank or a range: add a
 * row with its sources; `lookupBin` takes the longest matching prefix, so 8-digit sub-ranges may be added.
 */
export type CardKind = "debit" | "credit";

export interface Bank {
  /** Stable code (also the ledger's `issuer:<code>` account). */
  code: string;
  zh: string;
  en: string;
}

export const BANKS = {
  ICBC: { code: "ICBC", zh: "中国工商银行", en: "Industrial and Commercial Bank of China" },
  ABC: { code: "ABC", zh: "中国农业银行", en: "Agricultural Bank of China" },
  BOC: { code: "BOC", zh: "中国银行", en: "Bank of China" },
  CCB: { code: "CCB", zh: "中国建设银行", en: "China Construction Bank" },
  BOCOM: { code: "BOCOM", zh: "交通银行", en: "Bank of Communications" },
  PSBC: { code: "PSBC", zh: "中国邮政储蓄银行", en: "Postal Savings Bank of China" },
  CMB: { code: "CMB", zh: "招商银行", en: "China Merchants Bank" },
  CITIC: { code: "CITIC", zh: "中信银行", en: "China CITIC Bank" },
  CEB: { code: "CEB", zh: "中国光大银行", en: "China Everbright Bank" },
  CMBC: { code: "CMBC", zh: "中国民生银行", en: "China Minsheng Bank" },
  CIB: { code: "CIB", zh: "兴业银行", en: "Industrial Bank" },
  SPDB: { code: "SPDB", zh: "上海浦东发展银行", en: "Shanghai Pudong Development Bank" },
  HXB: { code: "HXB", zh: "华夏银行", en: "Hua Xia Bank" },
  CGB: { code: "CGB", zh: "广发银行", en: "China Guangfa Bank" },
  PAB: { code: "PAB", zh: "平安银行", en: "Ping An Bank" },
} as const satisfies Record<string, Bank>;

export type BankCode = keyof typeof BANKS;

export interface BinRange {
  /** Leading digits (6 here; longer prefixes win). */
  prefix: string;
  bank: BankCode;
  kind: CardKind;
  /** Card-number length of the range. */
  length: number;
}

const D = "debit" as const;
const C = "credit" as const;
const row = (prefix: string, bank: BankCode, kind: CardKind, length: number): BinRange => ({
  prefix,
  bank,
  kind,
  length,
});

export const UNIONPAY_BINS: readonly BinRange[] = [
  // ICBC
  row("622200", "ICBC", D, 19), // S1 ICBC DC 19; S2 工商银行-灵通卡-借记卡
  row("622202", "ICBC", D, 19), // S1 ICBC DC 19; S2 工商银行-E时代卡-借记卡
  row("622203", "ICBC", D, 19), // S1 ICBC DC 19; S2 工商银行-E时代卡-借记卡
  row("622208", "ICBC", D, 19), // S1 ICBC DC 19; S2 工商银行-理财金卡-借记卡
  row("621722", "ICBC", D, 19), // S1 ICBC DC 19; S2 工商银行-灵通卡-借记卡
  row("621723", "ICBC", D, 19), // S1 ICBC DC 19; S2 工商银行-灵通卡-借记卡
  row("622230", "ICBC", C, 16), // S1 ICBC CC 16; S2 工商银行-贷记卡(个普)-贷记卡
  row("622235", "ICBC", C, 16), // S1 ICBC CC 16; S2 工商银行-贷记卡(个金)-贷记卡
  row("622237", "ICBC", C, 16), // S1 ICBC CC 16; S2 工商银行-牡丹交通卡-贷记卡
  // ABC
  row("622848", "ABC", D, 19), // S1 ABC DC 19; S2 农业银行-金穗通宝卡(银联卡)-借记卡
  row("622845", "ABC", D, 19), // S1 ABC DC 19; S2 农业银行-金穗通宝卡(银联卡)-借记卡
  row("622846", "ABC", D, 19), // S1 ABC DC 19; S2 农业银行-金穗通宝卡-借记卡
  row("622847", "ABC", D, 19), // S1 ABC DC 19; S2 农业银行-金穗通宝卡(银联卡)-借记卡
  row("622849", "ABC", D, 19), // S1 ABC DC 19; S2 农业银行-金穗通宝钻石卡-借记卡
  row("623018", "ABC", D, 19), // S1 ABC DC 19; S2 农业银行-掌尚钱包-借记卡
  row("622836", "ABC", C, 16), // S1 ABC CC 16; S2 农业银行-金穗贷记卡-贷记卡
  row("622837", "ABC", C, 16), // S1 ABC CC 16; S2 农业银行-金穗贷记卡-贷记卡
  row("625826", "ABC", C, 16), // S1 ABC CC 16; S2 中国农业银行贷记卡-IC普卡-贷记卡
  row("625827", "ABC", C, 16), // S1 ABC CC 16; S2 中国农业银行贷记卡-IC金卡-贷记卡
  row("625996", "ABC", C, 16), // S1 ABC CC 16; S2 农业银行-银联IC卡金卡-贷记卡
  // BOC
  row("621660", "BOC", D, 19), // S1 BOC DC 19; S2 中国银行-联名卡-借记卡; S3 DEBIT 19
  row("621661", "BOC", D, 19), // S1 BOC DC 19; S2 中国银行-个人普卡-借记卡; S3 DEBIT 19
  row("621662", "BOC", D, 19), // S1 BOC DC 19; S2 中国银行-个人金卡-借记卡; S3 DEBIT 19
  row("621785", "BOC", D, 19), // S1 BOC DC 19; S2 中国银行-借记IC个人普卡-借记卡
  row("621786", "BOC", D, 19), // S1 BOC DC 19; S2 中国银行-借记IC个人金卡-借记卡
  row("625908", "BOC", C, 16), // S1 BOC CC 16; S2 中国银行-中行金融IC卡白金卡-贷记卡; S3 CREDIT 16
  row("625909", "BOC", C, 16), // S1 BOC CC 16; S2 中国银行-中行金融IC卡金卡-贷记卡; S3 CREDIT 16
  row("625910", "BOC", C, 16), // S1 BOC CC 16; S2 中国银行-中行金融IC卡普卡-贷记卡; S3 CREDIT 16
  // CCB
  row("621700", "CCB", D, 19), // S1 CCB DC 19; S2 建设银行-龙卡通-借记卡
  row("622700", "CCB", D, 19), // S1 CCB DC 19; S2 建设银行-龙卡储蓄卡(银联卡)-借记卡
  row("622280", "CCB", D, 19), // S1 CCB DC 19; S2 建设银行-银联储蓄卡-借记卡
  row("625964", "CCB", C, 16), // S1 CCB CC 16; S2 中国建设银行-龙卡IC信用卡普卡-贷记卡
  row("625965", "CCB", C, 16), // S1 CCB CC 16; S2 中国建设银行-龙卡IC信用卡金卡-贷记卡
  row("625966", "CCB", C, 16), // S1 CCB CC 16; S2 中国建设银行-龙卡IC信用卡白金卡-贷记卡
  row("622708", "CCB", C, 16), // S1 CCB CC 16; S2 中国建设银行-龙卡人民币白金卡-贷记卡
  // BOCOM (S1 calls it COMM)
  row("622260", "BOCOM", D, 19), // S1 COMM DC 19; S2 交通银行-太平洋借记卡-借记卡
  row("622261", "BOCOM", D, 19), // S1 COMM DC 19; S2 交通银行-太平洋借记卡-借记卡
  row("622262", "BOCOM", D, 19), // S1 COMM DC 19; S2 交通银行-交银IC卡-借记卡
  row("622258", "BOCOM", D, 17), // S1 COMM DC 17; S2 交通银行-太平洋借记卡-借记卡
  row("622252", "BOCOM", C, 16), // S1 COMM CC 16; S2 交通银行-太平洋人民币贷记卡-贷记卡
  row("622253", "BOCOM", C, 16), // S1 COMM CC 16; S2 交通银行-太平洋人民币贷记卡-贷记卡
  row("622656", "BOCOM", C, 16), // S1 COMM CC 16; S2 交通银行-白金卡-贷记卡
  // PSBC
  row("622188", "PSBC", D, 19), // S1 PSBC DC 19; S2 邮储银行-绿卡银联标准卡-借记卡
  row("621799", "PSBC", D, 19), // S1 PSBC DC 19; S2 邮政储蓄银行-IC绿卡通-借记卡
  row("621798", "PSBC", D, 19), // S1 PSBC DC 19; S2 邮政储蓄银行-IC绿卡通VIP卡-借记卡
  row("622810", "PSBC", C, 16), // S1 PSBC CC 16; S2 中国邮政储蓄银行信用卡中心-银联标准贷记卡-贷记卡
  row("622812", "PSBC", C, 16), // S1 PSBC CC 16; S2 中国邮政储蓄银行信用卡中心-银联标准白金卡-贷记卡
  // CMB
  row("622588", "CMB", D, 16), // S1 CMB DC 16; S2 招商银行-一卡通(银联卡)-借记卡
  row("622580", "CMB", D, 16), // S1 CMB DC 16; S2 招商银行-一卡通(银联卡)-借记卡
  row("622609", "CMB", D, 16), // S1 CMB DC 16; S2 招商银行-金卡-借记卡
  row("622575", "CMB", C, 16), // S1 CMB CC 16; S2 招商银行-招商银行信用卡-贷记卡
  row("622576", "CMB", C, 16), // S1 CMB CC 16; S2 招商银行-招商银行信用卡-贷记卡
  row("622581", "CMB", C, 16), // S1 CMB CC 16; S2 招商银行-招商银行信用卡-贷记卡
  // CITIC
  row("622690", "CITIC", D, 16), // S1 CITIC DC 16; S2 中信银行-中信借记卡(银联卡)-借记卡
  row("622691", "CITIC", D, 16), // S1 CITIC DC 16; S2 中信银行-中信借记卡(银联卡)-借记卡
  row("622998", "CITIC", D, 16), // S1 CITIC DC 16; S2 中信银行-中信钻石卡-借记卡
  row("622678", "CITIC", C, 16), // S1 CITIC CC 16; S2 中信银行信用卡中心-中信银联标准贷记卡-贷记卡
  row("622688", "CITIC", C, 16), // S1 CITIC CC 16; S2 中信银行信用卡中心-中信银联标准贷记卡-贷记卡
  row("622916", "CITIC", C, 16), // S1 CITIC CC 16; S2 中信银行信用卡中心-中信银联IC卡普卡-贷记卡
  // CEB
  row("622660", "CEB", D, 16), // S1 CEB DC 16; S2 光大银行-阳光卡(银联卡)-借记卡
  row("622666", "CEB", D, 16), // S1 CEB DC 16; S2 光大银行-阳光卡(银联卡)-借记卡
  row("625975", "CEB", C, 16), // S1 CEB CC 16; S2 中国光大银行-贷记IC卡-贷记卡
  row("625976", "CEB", C, 16), // S1 CEB CC 16; S2 中国光大银行-贷记IC卡-贷记卡
  // CMBC
  row("622615", "CMBC", D, 16), // S1 CMBC DC 16; S2 民生银行-民生借记卡(银联卡)-借记卡
  row("622622", "CMBC", D, 16), // S1 CMBC DC 16; S2 民生银行-民生借记卡(银联卡)-借记卡
  row("621691", "CMBC", D, 16), // S1 CMBC DC 16; S2 民生银行-借记卡普卡-借记卡
  row("622600", "CMBC", C, 16), // S1 CMBC CC 16; S2 民生银行-民生信用卡(银联卡)-贷记卡
  row("625911", "CMBC", C, 16), // S1 CMBC CC 16; S2 民生银行-银联芯片普卡-贷记卡
  // CIB
  row("622908", "CIB", D, 18), // S1 CIB DC 18; S2 兴业银行-兴业自然人生理财卡-借记卡
  row("622909", "CIB", D, 18), // S1 CIB DC 18; S2 兴业银行-兴业卡(银联标准卡)-借记卡
  row("622901", "CIB", C, 16), // S1 CIB CC 16; S2 兴业银行-银联信用卡(银联卡)-贷记卡
  row("625960", "CIB", C, 16), // S1 CIB CC 16; S2 兴业银行-兴业芯片普卡-贷记卡
  // SPDB
  row("622521", "SPDB", D, 16), // S1 SPDB DC 16; S2 浦东发展银行-东方卡(银联卡)-借记卡
  row("621791", "SPDB", D, 16), // S1 SPDB DC 16; S2 浦东发展银行-东方借记卡（复合卡）-借记卡
  row("625957", "SPDB", C, 16), // S1 SPDB CC 16; S2 浦东发展银行-贷记卡-贷记卡
  row("625970", "SPDB", C, 16), // S1 SPDB CC 16; S2 浦发银行信用卡中心-贷记卡-贷记卡
  // HXB
  row("622630", "HXB", D, 16), // S1 HXBANK DC 16; S2 华夏银行-华夏卡(银联卡)-借记卡
  row("623020", "HXB", D, 16), // S1 HXBANK DC 16; S2 华夏银行-华夏普卡-借记卡
  row("622637", "HXB", C, 16), // S1 HXBANK CC 16; S2 华夏银行-华夏信用卡金卡-贷记卡
  row("625967", "HXB", C, 16), // S1 HXBANK CC 16; S2 华夏银行-华夏标准金融IC信用卡-贷记卡
  // CGB (S1 calls it GDB)
  row("622568", "CGB", D, 19), // S1 GDB DC 19; S2 广发银行-广发理财通卡-借记卡
  row("622556", "CGB", C, 16), // S1 GDB CC 16; S2 广发银行-广发银联标准普卡-贷记卡
  row("625808", "CGB", C, 16), // S1 GDB CC 16; S2 广发银行-银联标准普卡-贷记卡
  // PAB (S1 calls it SPABANK)
  row("622538", "PAB", D, 16), // S1 SPABANK DC 16; S2 平安银行-发展卡(银联卡)-借记卡
  row("622986", "PAB", D, 16), // S1 SPABANK DC 16; S2 平安银行借记卡-借记卡
  row("622525", "PAB", C, 16), // S1 SPABANK CC 16; S2 平安银行-人民币信用卡金卡-贷记卡
  row("622526", "PAB", C, 16), // S1 SPABANK CC 16; S2 平安银行-人民币信用卡普卡-贷记卡
];

export interface BinMatch {
  range: BinRange;
  bank: Bank;
}

/** The range a card number falls in (longest prefix), or undefined when the BIN is not in the table. */
export function lookupBin(pan: string): BinMatch | undefined {
  let best: BinRange | undefined;
  for (const r of UNIONPAY_BINS) {
    if (pan.startsWith(r.prefix) && (!best || r.prefix.length > best.prefix.length)) best = r;
  }
  return best && { range: best, bank: BANKS[best.bank] };
}
