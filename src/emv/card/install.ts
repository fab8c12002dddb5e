/**
 * What a TSM sends to put a token card on a phone: GlobalPlatform INSTALL for the "emv.qpboc" package under
 * the debit or credit AID, with the PPSE label and priority, then the personalisation DGIs as STORE DATA —
 * the script the SE's card manager runs under SCP03 (src/se/scp03-host.ts builds and protects the APDUs).
 */
import type { InstallScript } from "../../se/scp03-host.js";
import type { Dgi } from "./personalisation.js";
import { QPBOC_PACKAGE_ID } from "./package.js";
import { aidOf, defaultLabel } from "./personalisation.js";

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
