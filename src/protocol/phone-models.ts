/**
 * The phones Mi Pay supports: exactly the list in the seed (小米支付 article, "支持机型"): 小米 MIX,
 * MIX 2, MIX 2S, MIX 3, 小米5, 5s, 5s Plus, 6, 8, 9, 9 SE, Note 2, Note 3. A phone reports its model by
 * Android device code name (`Build.DEVICE`, e.g. `sagit`); the code names are from the public TWRP /
 * LineageOS device lists. Card × model rules (MIW-26) will extend this table, not replace it.
 */
export interface PhoneModel {
  /** Android device code name (`Build.DEVICE`). */
  code: string;
  zh: string;
  en: string;
}

export const SUPPORTED_MODELS: readonly PhoneModel[] = [
  { code: "lithium", zh: "小米 MIX", en: "Xiaomi Mi MIX" },
  { code: "chiron", zh: "小米 MIX 2", en: "Xiaomi Mi MIX 2" },
  { code: "polaris", zh: "小米 MIX 2S", en: "Xiaomi Mi MIX 2S" },
  { code: "perseus", zh: "小米 MIX 3", en: "Xiaomi Mi MIX 3" },
  { code: "gemini", zh: "小米5", en: "Xiaomi Mi 5" },
  { code: "capricorn", zh: "小米5s", en: "Xiaomi Mi 5s" },
  { code: "natrium", zh: "小米5s Plus", en: "Xiaomi Mi 5s Plus" },
  { code: "sagit", zh: "小米6", en: "Xiaomi Mi 6" },
  { code: "dipper", zh: "小米8", en: "Xiaomi Mi 8" },
  { code: "cepheus", zh: "小米9", en: "Xiaomi Mi 9" },
  { code: "grus", zh: "小米9 SE", en: "Xiaomi Mi 9 SE" },
  { code: "scorpio", zh: "小米Note 2", en: "Xiaomi Mi Note 2" },
  { code: "jason", zh: "小米Note 3", en: "Xiaomi Mi Note 3" },
];

const BY_CODE = new Map(SUPPORTED_MODELS.map((m) => [m.code, m]));

export function findModel(code: string): PhoneModel | undefined {
  return BY_CODE.get(code);
}
