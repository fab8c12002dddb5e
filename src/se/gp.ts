/**
 * GlobalPlatform constants and the data formats card and host share: AIDs of the built-in applications,
 * life-cycle and contactless states, and the encodings of INSTALL, STORE DATA (DGIs), DELETE and GET STATUS
 * (GPC 2.3 §11; Amendment C for the contactless activation state). Pure functions over bytes: the card
 * manager parses what the TSM's host side builds here.
 *
 * Tapwallet's INSTALL [for install and make selectable] data field (see docs/DECISIONS.md "SE: INSTALL"):
 *   LV(package id, ASCII) ‖ LV(module: empty or the package id) ‖ LV(instance AID) ‖ LV(privileges, 0/1/3 B)
 *   ‖ LV(install parameters: C9 { UTF-8 JSON of the instance params } [EF {…} ignored]) ‖ LV(token: empty)
 */
import { command, type CommandApdu, type ResponseApdu, response } from "../core/apdu.js";
import { type Bytes, ascii, concat, readAscii } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import { SW } from "../core/sw.js";
import { findTag, parseTlv, tlv } from "../core/tlv.js";
import type { Json } from "./applet.js";

export const ISD_AID: Bytes = Uint8Array.of(0xa0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00);
/** The Contactless Registry Service application (GPC Amendment C). */
export const CRS_AID: Bytes = Uint8Array.of(0xa0, 0x00, 0x00, 0x01, 0x51, 0x43, 0x52, 0x53, 0x00);
export const PPSE_NAME: Bytes = ascii("2PAY.SYS.DDF01");

/** Application life-cycle states (GPC 2.3 §5.3.2); bit 8 set = LOCKED. */
export const LIFECYCLE = { INSTALLED: 0x03, SELECTABLE: 0x07, PERSONALIZED: 0x0f, LOCKED_BIT: 0x80 } as const;
/** Contactless activation state, the second byte of 9F70 (GPC Amendment C, GPCLRegistryEntry constants). */
export const CL_STATE = { DEACTIVATED: 0x00, ACTIVATED: 0x01, NON_ACTIVATABLE: 0x80 } as const;

export const GP_INS = {
  INITIALIZE_UPDATE: 0x50,
  EXTERNAL_AUTHENTICATE: 0x82,
  INSTALL: 0xe6,
  DELETE: 0xe4,
  STORE_DATA: 0xe2,
  GET_STATUS: 0xf2,
  SET_STATUS: 0xf0,
} as const;

/** INSTALL P1 values. */
export const INSTALL_FOR = { INSTALL_AND_MAKE_SELECTABLE: 0x0c, PERSONALIZATION: 0x20 } as const;

/** GET STATUS P1: which part of the registry. */
export const STATUS_OF = {
  ISD: 0x80,
  APPLICATIONS: 0x40,
  LOAD_FILES: 0x20,
  LOAD_FILES_AND_MODULES: 0x10,
} as const;

/** GlobalPlatform warning "more data available" (GET STATUS paging). */
const SW_MORE_DATA = 0x6310;

/**
 * One page of GET STATUS entries: whole entries taken from `pending` (which shrinks) up to `max` bytes (at
 * least one), answered 6310 while more remain, 6A88 when there is nothing (left) to report.
 */
export function statusPage(pending: Bytes[], max: number): ResponseApdu {
  if (pending.length === 0) return response(SW.REFERENCED_DATA_NOT_FOUND);
  const out: Bytes[] = [];
  let size = 0;
  while (pending.length > 0 && (out.length === 0 || size + pending[0]!.length <= max)) {
    const e = pending.shift()!;
    out.push(e);
    size += e.length;
  }
  return response(pending.length > 0 ? SW_MORE_DATA : SW.OK, concat(...out));
}

export const isSelectableLifecycle = (lc: number): boolean =>
  (lc & LIFECYCLE.LOCKED_BIT) === 0 && (lc & LIFECYCLE.SELECTABLE) === LIFECYCLE.SELECTABLE;

export interface GpFormatError {
  reason: string;
  sw: number;
}

const bad = (reason: string, sw: number = SW.WRONG_DATA): Result<never, GpFormatError> => err({ reason, sw });

export function lv(data: Bytes): Bytes {
  if (data.length > 255) throw new RangeError(`LV value of ${data.length} bytes exceeds 255`);
  return concat(Uint8Array.of(data.length), data);
}

/** Reads `count` consecutive LV fields that must fill `data` exactly. */
function readLvs(data: Bytes, count: number): Result<Bytes[], GpFormatError> {
  const out: Bytes[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const n = data[pos];
    if (n === undefined || pos + 1 + n > data.length) return bad(`LV field ${i + 1} is truncated`);
    out.push(data.subarray(pos + 1, pos + 1 + n));
    pos += 1 + n;
  }
  if (pos !== data.length) return bad(`${data.length - pos} bytes after the last LV field`);
  return ok(out);
}

const PACKAGE_ID_RE = /^[\x21-\x7e]{1,64}$/;

const isValidAid = (aid: Bytes): boolean => aid.length >= 5 && aid.length <= 16;

export interface InstallRequest {
  packageId: string;
  aid: Bytes;
  /** 0, 1 or 3 bytes (GPC 2.3 §11.1.2). */
  privileges: Bytes;
  params: Json;
}

function encodeInstallForInstall(r: InstallRequest): Bytes {
  if (!PACKAGE_ID_RE.test(r.packageId))
    throw new RangeError(`package id "${r.packageId}" is not 1-64 ASCII chars`);
  if (!isValidAid(r.aid)) throw new RangeError(`AID of ${r.aid.length} bytes is not 5-16 bytes`);
  const pkg = ascii(r.packageId);
  const params = tlv(0xc9, new TextEncoder().encode(JSON.stringify(r.params)));
  return concat(lv(pkg), lv(pkg), lv(r.aid), lv(r.privileges), lv(params), lv(new Uint8Array(0)));
}

export function parseInstallForInstall(data: Bytes): Result<InstallRequest, GpFormatError> {
  const f = readLvs(data, 6);
  if (!f.ok) return f;
  const [pkgBytes, module, aid, privileges, paramsField] = f.value as [
    Bytes,
    Bytes,
    Bytes,
    Bytes,
    Bytes,
    Bytes,
  ];
  const packageId = readAscii(pkgBytes);
  if (!PACKAGE_ID_RE.test(packageId)) return bad("package identifier is not 1-64 printable ASCII characters");
  if (module.length > 0 && readAscii(module) !== packageId)
    return bad("module identifier differs from the package");
  if (!isValidAid(aid)) return bad(`instance AID of ${aid.length} bytes is not 5-16 bytes`);
  if (privileges.length !== 0 && privileges.length !== 1 && privileges.length !== 3)
    return bad(`privileges of ${privileges.length} bytes`);
  const tlvs = parseTlv(paramsField, { recurse: false });
  if (!tlvs.ok) return bad(`install parameters: ${tlvs.error}`);
  const c9 = findTag(tlvs.value, 0xc9);
  if (!c9) return bad("install parameters lack the mandatory C9 field");
  let params: Json = null;
  if (c9.value.length > 0) {
    try {
      params = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(c9.value)) as Json;
    } catch {
      return bad("C9 install parameters are not UTF-8 JSON");
    }
  }
  return ok({ packageId, aid: aid.slice(), privileges: privileges.slice(), params });
}

/** INSTALL [for personalization]: 00 ‖ 00 ‖ LV(AID) ‖ 00 ‖ 00 ‖ 00. */
function encodeInstallForPersonalization(aid: Bytes): Bytes {
  const empty = new Uint8Array(0);
  return concat(lv(empty), lv(empty), lv(aid), lv(empty), lv(empty), lv(empty));
}

export function parseInstallForPersonalization(data: Bytes): Result<Bytes, GpFormatError> {
  const f = readLvs(data, 6);
  if (!f.ok) return f;
  const aid = f.value[2]!;
  if (!isValidAid(aid)) return bad(`application AID of ${aid.length} bytes is not 5-16 bytes`);
  return ok(aid.slice());
}

/** One data grouping of personalisation data (EMV CPS / GPC 2.3 §11.11.2.2 DGI format). */
export interface Dgi {
  dgi: number;
  data: Bytes;
}

/** DGI ‖ length (1 byte, or FF + 2 bytes from 255 on) ‖ data. */
function encodeDgi(d: Dgi): Bytes {
  if (!Number.isInteger(d.dgi) || d.dgi < 0 || d.dgi > 0xffff) throw new RangeError(`bad DGI ${d.dgi}`);
  const n = d.data.length;
  if (n > 0xffff) throw new RangeError(`DGI data of ${n} bytes`);
  const len = n < 0xff ? Uint8Array.of(n) : Uint8Array.of(0xff, n >> 8, n & 0xff);
  return concat(Uint8Array.of(d.dgi >> 8, d.dgi & 0xff), len, d.data);
}

export function parseDgis(data: Bytes): Result<Dgi[], GpFormatError> {
  const out: Dgi[] = [];
  let pos = 0;
  while (pos < data.length) {
    if (pos + 3 > data.length) return bad(`truncated DGI header at offset ${pos}`);
    const dgi = (data[pos]! << 8) | data[pos + 1]!;
    let n = data[pos + 2]!;
    pos += 3;
    if (n === 0xff) {
      if (pos + 2 > data.length) return bad("truncated DGI length");
      n = (data[pos]! << 8) | data[pos + 1]!;
      pos += 2;
    }
    if (pos + n > data.length) return bad(`DGI ${dgi.toString(16).toUpperCase()} claims ${n} bytes`);
    out.push({ dgi, data: data.slice(pos, pos + n) });
    pos += n;
  }
  return ok(out);
}

/** The AID in a `4F` search/delete criterion (`4F 00` = any, returned as an empty AID). */
export function parseAidCriterion(data: Bytes): Result<{ aid: Bytes; tagList?: number[] }, GpFormatError> {
  const t = parseTlv(data, { recurse: false, skipPadding: false });
  if (!t.ok) return bad(t.error);
  const aid = t.value.find((n) => n.tag === 0x4f);
  if (!aid) return bad("no 4F AID");
  if (aid.value.length > 16) return bad("AID longer than 16 bytes");
  const list = t.value.find((n) => n.tag === 0x5c);
  if (!list) return ok({ aid: aid.value });
  const tags = parseTagList(list.value);
  return tags ? ok({ aid: aid.value, tagList: tags }) : bad("malformed 5C tag list");
}

/** A tag list (5C value): concatenated BER tags. */
function parseTagList(v: Bytes): number[] | null {
  const out: number[] = [];
  let i = 0;
  while (i < v.length) {
    let tag = v[i++]!;
    if ((tag & 0x1f) === 0x1f) {
      do {
        const b = v[i++];
        if (b === undefined || tag > 0xffff) return null;
        tag = tag * 256 + b;
        if ((b & 0x80) === 0) break;
      } while (true);
    }
    out.push(tag);
  }
  return out;
}

// ---- Command builders (host side) ---------------------------------------------------------------------

export const selectByAid = (aid: Bytes): CommandApdu => command(0x00, 0xa4, 0x04, 0x00, aid, 256);

export const installForInstallCommand = (r: InstallRequest): CommandApdu =>
  command(
    0x80,
    GP_INS.INSTALL,
    INSTALL_FOR.INSTALL_AND_MAKE_SELECTABLE,
    0x00,
    encodeInstallForInstall(r),
    256,
  );

export const installForPersonalizationCommand = (aid: Bytes): CommandApdu =>
  command(0x80, GP_INS.INSTALL, INSTALL_FOR.PERSONALIZATION, 0x00, encodeInstallForPersonalization(aid));

export const deleteCommand = (aid: Bytes): CommandApdu =>
  command(0x80, GP_INS.DELETE, 0x00, 0x00, tlv(0x4f, aid), 256);

/** GET STATUS in the GlobalPlatform TLV format (P2 = 02). */
export const getStatusCommand = (p1: number, aid: Bytes = new Uint8Array(0), next = false): CommandApdu =>
  command(0x80, GP_INS.GET_STATUS, p1, next ? 0x03 : 0x02, tlv(0x4f, aid), 256);

/** STORE DATA in DGI format. P1: b8 = last block, b5-b4 = 01 (DGI format). */
export const storeDataCommand = (block: number, last: boolean, data: Bytes): CommandApdu =>
  command(0x80, GP_INS.STORE_DATA, (last ? 0x80 : 0x00) | 0x08, block & 0xff, data);

/**
 * Packs DGIs into STORE DATA commands of at most `maxBlock` data bytes each (a DGI is never split; one
 * larger than `maxBlock` travels alone, in an extended-length APDU). 239 bytes keep a block, once padded for
 * C-DECRYPTION and given its 8-byte C-MAC, within a short APDU.
 */
export function storeDataCommands(dgis: readonly Dgi[], maxBlock = 239): CommandApdu[] {
  const blocks: Bytes[] = [];
  let current: Bytes[] = [];
  let size = 0;
  for (const d of dgis) {
    const e = encodeDgi(d);
    if (size > 0 && size + e.length > maxBlock) {
      blocks.push(concat(...current));
      current = [];
      size = 0;
    }
    current.push(e);
    size += e.length;
  }
  if (size > 0 || blocks.length === 0) blocks.push(concat(...current));
  return blocks.map((b, i) => storeDataCommand(i, i === blocks.length - 1, b));
}
