/** The virtual phone: its SE, host signals, field presentation, cloud client and wallet (docs/PHONE.md). */
export { resolveModel, type PhoneModelInfo } from "./models.js";
export { PHONE_PACKAGES } from "./packages.js";
export {
  PhoneSignals,
  VERIFICATION_METHODS,
  type PhoneSettings,
  type VerificationMethod,
} from "./signals.js";
export { phoneDir, phonesRoot, type CardRecord, type CloudBinding, type PhoneFile } from "./state.js";
export { VirtualPhone, type CreateOptions, type PhoneCard, type PhoneOptions } from "./phone.js";
export { CloudClient, CloudRequestError, type Fetch } from "./cloud-client.js";
export { parseSyncStep, runOperations, transmit, applyRegistryAction } from "./relay.js";
export {
  DEFAULT_SERVER,
  PHONE_APP_VERSION,
  Wallet,
  maskMobile,
  parseSummary,
  type SessionSummary,
  type SyncOutcome,
} from "./wallet.js";
export { setDefaultCard, type DefaultCardChange } from "./bank-cards.js";
export {
  activeDoorUid,
  addDoorCard,
  addDoorCardLocally,
  checkDoorCard,
  importDoorDump,
  openDoor,
} from "./door-cards.js";
