/** Text a user reads: zh-CN first, English beside it. */
export interface Bilingual {
  zh: string;
  en: string;
}
