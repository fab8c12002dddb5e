/**
 * What a TSM sends to put a token card on a phone: GlobalPlatform INSTALL for the "emv.qpboc" package under
 * the debit or credit AID, with the PPSE label and priority, then the personalisation DGIs as STORE DATA —
 * run under SCP03 by the SE's card manager (src/se/scp03-host.ts builds and protects the APDUs). Then the
 * wallet makes the card the default payment card.
 */
import type { Bytes } from "../../core/bytes.js";
import { toHex } from "../../core/bytes.js";
import { TapwalletError } from "../../core/errors.js";
import { registryError } from "../../se/crs.js";
import type { Scp03Keys } from "../../se/scp03.js";
import { type InstallScript, installCommands, runSecureScript } from "../../se/scp03-host.js";
import type { SecureElement } from "../../se/secure-element.js";
import { QPBOC_PACKAGE_ID } from "./package.js";
import { type Dgi, aidOf, defaultLabel } from "./personalisation.js";

export interface TokenInstall {
  kind: "debit" | "credit";
  personalisation: readonly Dgi[];
  label?: string;
  priority?: number;
}

export function tokenInstallScript(t: TokenInstall): InstallScript {
  return {
    packageId: QPBOC_PACKAGE_ID,
    aid: aidOf(t.kind),
    params: { label: t.label ?? defaultLabel(t.kind), priority: t.priority ?? 1 },
    personalization: t.personalisation,
  };
}

/**
 * Installs and personalises a token on a phone's SE through its card manager (SCP03 with the SE's keys, as
 * the TSM holds them), activates it for the field and makes it the default payment card.
 */
export function installTokenOnSe(
  se: SecureElement,
  keys: Scp03Keys,
  t: TokenInstall,
  hostChallenge: Bytes,
): void {
  const script = tokenInstallScript(t);
  const r = runSecureScript(se.host.transmit, keys, installCommands(script), { hostChallenge });
  se.host.reset();
  if (!r.ok)
    throw new TapwalletError(
      "token_install_failed",
      `令牌卡安装失败：${r.error.step}（${r.error.reason}）`,
      `installing the token card failed: ${r.error.step} (${r.error.reason})`,
      { aid: toHex(script.aid), sw: r.error.sw },
    );
  const d = se.registry.setDefaultPayment(script.aid);
  if (!d.ok) throw registryError(d.error, script.aid);
}
