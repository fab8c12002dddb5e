/** The virtual phone: its SE, host signals, field presentation, cloud client and wallet (docs/PHONE.md). */
export { resolveModel } from "./models.js";
export { PHONE_PACKAGES } from "./packages.js";
export { VERIFICATION_METHODS, type VerificationMethod } from "./signals.js";
export { phoneDir } from "./state.js";
export { VirtualPhone, type PhoneCard, type PhoneOptions } from "./phone.js";
export { CloudClient, CloudRequestError, type Fetch } from "./cloud-client.js";
export { parseSyncStep, runOperations, transmit, applyRegistryAction } from "./relay.js";
export { Wallet, maskMobile, parseSummary, type Registration, type SyncOutcome } from "./wallet.js";
export { setDefaultCard } from "./bank-cards.js";
export { activeDoorUid, addDoorCard, addDoorCardLocally, importDoorDump, openDoor } from "./door-cards.js";
