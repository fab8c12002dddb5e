export * from "./cipher.js";
export * from "./padding.js";
export * from "./mac.js";
export * from "./cmac.js";
