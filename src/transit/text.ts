/** Text a user reads: zh-CN first, English beside it. */
export interface Bilingual {
  zh: string;
  en: string;
}

/** "中文 / English" on one line, as the CLI prints it. */
export const both = (t: Bilingual): string => `${t.zh} / ${t.en}`;
