/**
 * Transit cards: the public API the cloud, the phone and the CLI use (docs/TRANSIT.md). Card side, terminal
 * side and the issuer's host functions.
 */
export * from "./catalogue.js";
export type { Bilingual } from "../core/text.js";
export { TxType, type EpurseAlgorithm, type MasterKeys } from "./epurse-crypto.js";
export { DEVELOPMENT_KEY_SEED, IssuerKeyStore, groupFactorOf, keyDomainOf } from "./keys.js";
export {
  authoriseLoadMac,
  parseLoadInit,
  parsePurchaseInit,
  verifyLoadTac,
  verifyPurchaseTac,
  type LoadInit,
  type LoadRequest,
} from "./issuer.js";
export { buildPersonalisation } from "./card/personalisation.js";
export { LAYOUTS, type CardIdentity } from "./systems/index.js";
export { EPURSE_PACKAGE_ID, canAddTransitCard, transitCardsOn, type AddRefusal } from "./phone.js";
export { Psam, PsamClient } from "./psam.js";
export { readTransitCard, type TransitCardReading } from "./reader/reader.js";
export { BusValidator, MetroGate, type TapOutcome } from "./terminal/gate.js";
export { GATE_UPLOAD_FORMAT, GateLog, type GateLogRecord, type GateUpload } from "./terminal/log.js";
export { Blacklist } from "./terminal/blacklist.js";
export {
  BLACKLIST_PAGE_FORMAT,
  type BlacklistCopy,
  type BlacklistEntry,
  type BlacklistPage,
  type BlacklistReason,
  blacklistOf,
  emptyBlacklistCopy,
  parseBlacklistCopy,
} from "./terminal/blacklist-delta.js";
export { refreshBlacklist } from "./terminal/blacklist-client.js";
export { EXAMPLE_FARES } from "./terminal/fares.js";
export { TransitSandbox } from "./sandbox.js";
