/**
 * Transit cards: the public API the cloud, the phone and the CLI use (docs/TRANSIT.md). Card side, terminal
 * side and the issuer's host functions.
 */
export * from "./catalogue.js";
export { cityName, type CityScheme } from "./cities.js";
export type { Bilingual } from "./text.js";
export {
  ALGORITHM_ID,
  TxType,
  algorithmOfId,
  deriveCardKeys,
  type EpurseAlgorithm,
  type MasterKeys,
} from "./epurse-crypto.js";
export {
  DEVELOPMENT_KEY_SEED,
  IssuerKeyStore,
  groupFactorOf,
  keyDomainOf,
  type PurchaseKey,
} from "./keys.js";
export {
  LocalIssuer,
  authoriseLoadMac,
  balanceAfterLoad,
  parseLoadInit,
  parsePurchaseInit,
  verifyLoadTac,
  verifyPurchaseTac,
  type IssuedCard,
  type IssueOptions,
  type LoadInit,
  type LoadRequest,
  type PurchaseInit,
  type PurchaseProof,
} from "./issuer.js";
export {
  DGI,
  buildPersonalisation,
  type Personalisation,
  type PurseParameters,
  type PurseState,
} from "./card/personalisation.js";
export { LAYOUTS, type CardIdentity } from "./systems/index.js";
export {
  EPURSE_PACKAGE_ID,
  canAddTransitCard,
  epursePackage,
  installTransitCard,
  productOfInstance,
  setExpressTransitCard,
  transitCardsOn,
  type AddRefusal,
} from "./phone.js";
export { Psam, PsamClient } from "./psam.js";
export { readTransitCard, readingJson, type TransitCardReading } from "./reader/reader.js";
export { formatReading } from "./reader/format.js";
export {
  loadCard,
  settleLoad,
  localLoadHost,
  type LoadHost,
  type LoadDone,
  type PendingLoad,
} from "./terminal/load.js";
export { BusValidator, MetroGate, type TapOutcome } from "./terminal/gate.js";
export { GATE_UPLOAD_FORMAT, GateLog, type GateLogRecord, type GateUpload } from "./terminal/log.js";
export { Blacklist } from "./terminal/blacklist.js";
export { EXAMPLE_FARES, type FareTable } from "./terminal/fares.js";
export { TransitSandbox, hostLink } from "./sandbox.js";
