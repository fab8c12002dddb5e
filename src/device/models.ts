/**
 * Which phone the virtual phone is. The supported models are the cloud's list (`SUPPORTED_MODELS` in
 * src/protocol, pure data shared with the cloud as the signing scheme is); a name the user types — "小米9",
 * "Mi 9", "cepheus" — resolves to one of them. Any other Android device code name is accepted as an unlisted
 * model, so that a phone the cloud refuses can be built on purpose.
 */
import { TapwalletError } from "../core/errors.js";
import { SUPPORTED_MODELS } from "../protocol/phone-models.js";

export interface PhoneModelInfo {
  /** Android device code name (`Build.DEVICE`), what the phone reports. */
  code: string;
  zh: string;
  en: string;
  /** In the list of phones Mi Pay supports. */
  supported: boolean;
}

const squash = (s: string) =>
  s
    .toLowerCase()
    .replace(/[\s_-]+/g, "")
    .replace(/^xiaomi/, "")
    .replace(/^mi(?=\d|note|mix)/, "小米");
const CODE_NAME = /^[a-z][a-z0-9_]{1,31}$/;

export function resolveModel(name: string): PhoneModelInfo {
  const wanted = squash(name.trim());
  const m = SUPPORTED_MODELS.find((x) => [x.code, x.zh, x.en].some((n) => squash(n) === wanted));
  if (m) return { ...m, supported: true };
  const code = name.trim();
  if (CODE_NAME.test(code)) return { code, zh: code, en: code, supported: false };
  throw new TapwalletError(
    "unknown_model",
    `不认识的机型「${name}」；支持的机型：${SUPPORTED_MODELS.map((x) => x.zh).join("、")}（或填写 Android 设备代号）`,
    `unknown phone model "${name}"; supported: ${SUPPORTED_MODELS.map((x) => x.en).join(", ")} (or an Android device code name)`,
    { supportedModels: SUPPORTED_MODELS.map((x) => x.code) },
  );
}
