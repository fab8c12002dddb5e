/**
 * The card image format (docs/REPLAY.md): what a card holds rather than what one reader asked, so that any
 * reasonable reading strategy can be answered.
 *
 *   {"activation"?: {"uid", "atqa", "sak", "ats"?},
 *    "ppse"?: "FCI HEX",
 *    "applications": [{"aid": "HEX", "fid"?: "HEX(2)", "fci": "HEX",
 *                      "files": {"15": {"binary": "HEX"}, "18": {"records": ["HEX", …]}},
 *                      "balances"?: {"00": "HEX(4)", …}, "getData"?: {"80CA000009": "HEX"}}]}
 *
 * File keys are SFIs in two hex digits (01–1E); response data carry no status word. `loadImage` checks
 * everything and names the first wrong field.
 */
import { type Bytes, toHex } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import type { Activation } from "../link.js";
import { hexField, isObject, parseJsonText } from "../json.js";
import { parseTranscript } from "../transcript.js";

export interface ImageFile {
  binary?: Bytes;
  records?: Bytes[];
}

export interface ImageApplication {
  aid: Bytes;
  /** The ADF's file identifier (e.g. 1001), when readers select it by FID or path. */
  fid?: number;
  fci: Bytes;
  /** By SFI (1–30). */
  files: Map<number, ImageFile>;
  /** GET BALANCE answers by P1. */
  balances?: Map<number, Bytes>;
  /** GET DATA answers by command hex (whole command, or its 4-byte header). */
  getData?: Map<string, Bytes>;
}

export interface CardImage {
  activation?: Activation;
  ppse?: Bytes;
  applications: ImageApplication[];
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], where: string): string | null {
  for (const k of Object.keys(o))
    if (!allowed.includes(k)) return `${where}: unknown field "${k}" (expected ${allowed.join(", ")})`;
  return null;
}

function loadFile(v: unknown, where: string): Result<ImageFile> {
  if (!isObject(v)) return err(`${where} must be an object {"binary"?: HEX, "records"?: [HEX, …]}`);
  const unknown = onlyKeys(v, ["binary", "records"], where);
  if (unknown) return err(unknown);
  if (v.binary === undefined && v.records === undefined)
    return err(`${where} has neither "binary" nor "records"`);
  const file: ImageFile = {};
  if (v.binary !== undefined) {
    const b = hexField(v.binary, `${where}.binary`, { max: 32767 });
    if (!b.ok) return b;
    file.binary = b.value;
  }
  if (v.records !== undefined) {
    if (!Array.isArray(v.records)) return err(`${where}.records must be an array of hex strings`);
    if (v.records.length > 254) return err(`${where}.records has ${v.records.length} records; at most 254`);
    const records: Bytes[] = [];
    for (const [i, r] of v.records.entries()) {
      const b = hexField(r, `${where}.records[${i}]`, { min: 1, max: 65535 });
      if (!b.ok) return b;
      records.push(b.value);
    }
    file.records = records;
  }
  return ok(file);
}

function loadApplication(v: unknown, where: string): Result<ImageApplication> {
  if (!isObject(v)) return err(`${where} must be an object {"aid", "fci", "files", …}`);
  const unknown = onlyKeys(v, ["aid", "fid", "fci", "files", "balances", "getData"], where);
  if (unknown) return err(unknown);
  const aid = hexField(v.aid, `${where}.aid`, { min: 1, max: 16 });
  if (!aid.ok) return aid;
  const fci = hexField(v.fci, `${where}.fci`);
  if (!fci.ok) return fci;
  const app: ImageApplication = { aid: aid.value, fci: fci.value, files: new Map() };
  if (v.fid !== undefined) {
    const fid = hexField(v.fid, `${where}.fid`, { exact: 2 });
    if (!fid.ok) return fid;
    app.fid = (fid.value[0]! << 8) | fid.value[1]!;
    if (app.fid === 0x3f00) return err(`${where}.fid 3F00 is the MF's identifier`);
  }
  const files = v.files ?? {};
  if (!isObject(files)) return err(`${where}.files must be an object keyed by SFI ("15", "18", …)`);
  for (const [key, f] of Object.entries(files)) {
    if (!/^[0-9A-Fa-f]{2}$/.test(key))
      return err(`${where}.files key "${key}" is not an SFI in two hex digits`);
    const sfi = parseInt(key, 16);
    if (sfi < 1 || sfi > 30) return err(`${where}.files key "${key}": an SFI is 01–1E`);
    if (app.files.has(sfi)) return err(`${where}.files has SFI ${key} twice`);
    const file = loadFile(f, `${where}.files.${key}`);
    if (!file.ok) return file;
    app.files.set(sfi, file.value);
  }
  if (v.balances !== undefined) {
    if (!isObject(v.balances)) return err(`${where}.balances must be an object keyed by P1 ("00", "01", …)`);
    app.balances = new Map();
    for (const [key, b] of Object.entries(v.balances)) {
      if (!/^[0-9A-Fa-f]{2}$/.test(key))
        return err(`${where}.balances key "${key}" is not a P1 in two hex digits`);
      const value = hexField(b, `${where}.balances.${key}`, { exact: 4 });
      if (!value.ok) return value;
      app.balances.set(parseInt(key, 16), value.value);
    }
  }
  if (v.getData !== undefined) {
    if (!isObject(v.getData))
      return err(`${where}.getData must be an object keyed by command hex ("80CA000009")`);
    app.getData = new Map();
    for (const [key, d] of Object.entries(v.getData)) {
      const k = hexField(key, `${where}.getData key "${key}"`, { min: 4 });
      if (!k.ok) return k;
      if (k.value[1] !== 0xca && k.value[1] !== 0xcb)
        return err(`${where}.getData key "${key}" is not a GET DATA (INS CA/CB)`);
      const value = hexField(d, `${where}.getData.${key}`);
      if (!value.ok) return value;
      app.getData.set(toHex(k.value), value.value);
    }
  }
  return ok(app);
}

/** Validates card-image JSON (already parsed). */
export function loadImage(json: unknown): Result<CardImage> {
  if (!isObject(json)) return err('a card image is a JSON object with an "applications" array');
  const unknown = onlyKeys(json, ["activation", "ppse", "applications"], "image");
  if (unknown) return err(unknown);
  if (!Array.isArray(json.applications) || json.applications.length === 0)
    return err('"applications" must be a non-empty array');
  const image: CardImage = { applications: [] };
  if (json.ppse !== undefined) {
    const ppse = hexField(json.ppse, "ppse", { min: 1 });
    if (!ppse.ok) return ppse;
    image.ppse = ppse.value;
  }
  if (json.activation !== undefined) {
    const t = parseTranscript({ activation: json.activation, apdus: [] });
    if (!t.ok) return t;
    image.activation = t.value.activation!;
  }
  const fids = new Set<number>();
  for (const [i, a] of json.applications.entries()) {
    const app = loadApplication(a, `applications[${i}]`);
    if (!app.ok) return app;
    if (app.value.fid !== undefined) {
      if (fids.has(app.value.fid)) return err(`applications[${i}].fid is used twice`);
      fids.add(app.value.fid);
    }
    image.applications.push(app.value);
  }
  return ok(image);
}

/** Parses card-image JSON text. */
export const loadImageText = (text: string): Result<CardImage> => parseJsonText(text, loadImage);
