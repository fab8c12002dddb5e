/** The virtual secure element: public API for the device layer, the TSM and applet authors. */
export * from "./applet.js";
export { SecureElement, SE_IMAGE_FORMAT } from "./secure-element.js";
export type {
  SecureElementOptions,
  ManufactureOptions,
  HostInterface,
  SeImage,
  SeStorage,
} from "./secure-element.js";
export {
  FileStorage,
  MemoryStorage,
  openSecureElement,
  loadSecureElement,
  parseSeImage,
} from "./persistence.js";
export { ContactlessRegistry, registryError } from "./crs.js";
export type { RegistryEntry, RegistryError, ContactlessState } from "./crs.js";
export { FileSystem, mf } from "./files.js";
export type { DfSpec, EfSpec, EfStructure, Access } from "./files.js";
export { Nvm, PowerCut, Transaction } from "./store.js";
export type { NvmImage, NvmSnapshot } from "./store.js";
export * from "./gp.js";
export * from "./scp03.js";
export * from "./scp03-host.js";
export { ppseEntries, ppseFci } from "./ppse.js";
export type { PpseEntry } from "./ppse.js";
