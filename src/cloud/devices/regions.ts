/**
 * Where Mi Pay works: mainland China only ("小米支付的支援範圍仍限於中國大陸", seed). The phone reports
 * its region as an ISO 3166-1 alpha-2 code; `CN` is mainland China. Hong Kong (HK), Macau (MO) and
 * Taiwan (TW) have their own codes and are outside the service area, each refused with its own reason.
 * The choice is recorded in docs/DECISIONS.md; `SERVICE_REGIONS` is the one place to change it.
 */
export const SERVICE_REGIONS: readonly string[] = ["CN"];

export interface RegionRefusal {
  zh: string;
  en: string;
}

const NAMED_OUTSIDE: Record<string, { zh: string; en: string }> = {
  HK: { zh: "中国香港", en: "Hong Kong" },
  MO: { zh: "中国澳门", en: "Macau" },
  TW: { zh: "中国台湾", en: "Taiwan" },
};

/** undefined when the region is served; otherwise the reason, in zh-CN and English. */
export function regionRefusal(region: string): RegionRefusal | undefined {
  if (SERVICE_REGIONS.includes(region)) return undefined;
  const named = NAMED_OUTSIDE[region];
  if (named) {
    return {
      zh: `小米支付仅在中国大陆提供服务，${named.zh}地区不在服务范围内`,
      en: `Mi Pay is available in mainland China only; ${named.en} is outside the service area`,
    };
  }
  return {
    zh: `小米支付仅在中国大陆提供服务，地区 ${region} 不在服务范围内`,
    en: `Mi Pay is available in mainland China only; region ${region} is outside the service area`,
  };
}
