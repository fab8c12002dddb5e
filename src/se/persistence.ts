/**
 * One file per phone holds its SE (the SE is its own trust domain). The file is JSON, written atomically
 * (temporary file + rename) after every committed transaction and after a power cut:
 *
 *   {
 *     "format": "tapwallet.se/1",
 *     "serial": "<8-byte SE serial, hex>",
 *     "cardManager": { "keyVersion": 48, "enc": "<hex>", "mac": "<hex>", "dek": "<hex>" },
 *     "nvm": {
 *       "cells": {
 *         "sys": { "inst:<AID>": { "package", "params", "lifecycle", "privileges", "seq" },
 *                  "cl:<AID>": <contactless state>, "crs.defaultPayment": "<AID>", "crs.expressTransit": "<AID>",
 *                  "inst.next": <install counter> },
 *         "cm":  { "scp03.sequence": <SCP03 sequence counter> },
 *         "app:<AID>": { <the instance's own store> }
 *       },
 *       "journal": null | { "entries": [[namespace, key, value | null], …], "committed": true | false }
 *     }
 *   }
 *
 * Installed instances, registry state and counters live in NVM cells, so they are as tearing-safe as applet
 * data; a journal left by a power cut is recovered when the file is loaded.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { isHex } from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";
import type { Json } from "./applet.js";
import {
  type ManufactureOptions,
  SE_IMAGE_FORMAT,
  SecureElement,
  type SecureElementOptions,
  type SeImage,
  type SeStorage,
} from "./secure-element.js";
import type { NvmImage } from "./store.js";

/** Keeps the last image in memory (tests and benchmarks; `load()` it into a new SE to "reboot from NVM"). */
export class MemoryStorage implements SeStorage {
  image: SeImage | undefined;
  saves = 0;

  save(image: SeImage): void {
    this.image = structuredClone(image);
    this.saves++;
  }
}

/** The SE file of one phone. */
export class FileStorage implements SeStorage {
  constructor(readonly path: string) {}

  save(image: SeImage): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(image, null, 1), { mode: 0o600, flush: true });
    renameSync(tmp, this.path);
  }

  /** The image in the file, or undefined when there is no file. Throws `TapwalletError` when it is invalid. */
  load(): SeImage | undefined {
    if (!existsSync(this.path)) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.path, "utf8"));
    } catch (e) {
      throw invalid(`${this.path}: ${(e as Error).message}`);
    }
    return parseSeImage(json);
  }
}

/**
 * Opens the SE kept in `path`: loads it (recovering a torn transaction), or manufactures a new one there.
 * Unknown applet packages and malformed files are `TapwalletError`s.
 */
export function openSecureElement(path: string, options: ManufactureOptions): SecureElement {
  const storage = new FileStorage(path);
  const image = storage.load();
  if (image) return SecureElement.fromImage(image, { ...options, storage });
  return SecureElement.manufacture({ ...options, storage });
}

/** Loads an image kept in memory (see `MemoryStorage`). */
export function loadSecureElement(image: SeImage, options: SecureElementOptions): SecureElement {
  return SecureElement.fromImage(parseSeImage(structuredClone(image) as unknown), options);
}

function invalid(detail: string): TapwalletError {
  return new TapwalletError("se_image_invalid", `安全元件文件无效：${detail}`, `invalid SE file: ${detail}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isKeyHex = (v: unknown): v is string =>
  typeof v === "string" && isHex(v) && [32, 48, 64].includes(v.length);

/** Checks the shape of an SE image read from untrusted JSON. */
export function parseSeImage(json: unknown): SeImage {
  if (!isObject(json) || json.format !== SE_IMAGE_FORMAT) throw invalid(`format is not "${SE_IMAGE_FORMAT}"`);
  const { serial, cardManager: cm, nvm } = json;
  if (typeof serial !== "string" || !isHex(serial) || serial.length !== 16) throw invalid("serial");
  if (
    !isObject(cm) ||
    typeof cm.keyVersion !== "number" ||
    !isKeyHex(cm.enc) ||
    !isKeyHex(cm.mac) ||
    !isKeyHex(cm.dek)
  )
    throw invalid("cardManager keys");
  if (!isObject(nvm) || !isObject(nvm.cells)) throw invalid("nvm.cells");
  for (const [ns, cells] of Object.entries(nvm.cells)) if (!isObject(cells)) throw invalid(`nvm.cells.${ns}`);
  const j = nvm.journal;
  if (j !== null) {
    const entryOk = (e: unknown) =>
      Array.isArray(e) && e.length === 3 && typeof e[0] === "string" && typeof e[1] === "string";
    if (
      !isObject(j) ||
      typeof j.committed !== "boolean" ||
      !Array.isArray(j.entries) ||
      !j.entries.every(entryOk)
    )
      throw invalid("nvm.journal");
  }
  return {
    format: SE_IMAGE_FORMAT,
    serial,
    cardManager: { keyVersion: cm.keyVersion, enc: cm.enc, mac: cm.mac, dek: cm.dek },
    nvm: {
      cells: nvm.cells as Record<string, Record<string, Json>>,
      journal: j as NvmImage["journal"],
    },
  };
}
