/**
 * An ISO/IEC 7816-4 file system for file-based applets (e.g. the transit e-purse: MF 3F00, DF 1001 = ADF,
 * EFs 0015/0018 with SFIs). The tree's structure is code (a `DfSpec`); the contents of its EFs live in the
 * applet's store (keys `fs:<path>`), so they are written inside the command's transaction and survive
 * tearing like any other applet state. The current DF/EF/record are transient (reset them in `select`).
 *
 * `handle()` answers the interindustry file commands (CLA 0x, no secure messaging): SELECT by FID, path and
 * DF name (P1 00/01/02/03/04/08/09; P2 FCI/FCP/FMD/none), READ BINARY, UPDATE BINARY, READ RECORD,
 * UPDATE RECORD and APPEND RECORD, with SFI addressing. It returns `undefined` for anything else so the
 * applet handles its own commands. The programmatic functions (`read`, `write`, `records`, `appendRecord`…)
 * skip access checks: they are what an applet's own commands (e.g. a purchase logging a record) call.
 */
import { type CommandApdu, type ResponseApdu, response } from "../core/apdu.js";
import { type Bytes, fromHex, startsWith, toHex } from "../core/bytes.js";
import { SW } from "../core/sw.js";
import { type Tlv, tlv } from "../core/tlv.js";
import type { AppletContext } from "./applet.js";

/** Who may use an APDU file command: always, never, or when the applet says so (e.g. after VERIFY). */
export type Access = "always" | "never" | ((ctx: AppletContext) => boolean);

export type EfStructure = "transparent" | "linear-fixed" | "linear-variable" | "cyclic";

export interface EfSpec {
  kind: "ef";
  /** 2-byte file identifier; an EF may have only an SFI. */
  fid?: number;
  /** Short EF identifier, 1–30. */
  sfi?: number;
  structure: EfStructure;
  /** Transparent: size in bytes. */
  size?: number;
  /** Record EFs: record length (fixed, cyclic) or maximum record length (linear variable). */
  recordSize?: number;
  /** Record EFs: number of records the file holds. */
  maxRecords?: number;
  /** Content before the first write: bytes (transparent, zero-filled to `size`) or records (record 1 first). */
  initial?: Bytes | Bytes[];
  /** APDU access (defaults: read always, update/append never). */
  read?: Access;
  update?: Access;
  append?: Access;
}

export interface DfSpec {
  kind: "df";
  fid?: number;
  /** DF name (for an ADF, its AID). */
  name?: Bytes;
  /** The FCI answered to SELECT with P2 = 00 (default: 6F { 84 name } or 6F { 83 FID }). */
  fci?: (ctx: AppletContext) => Bytes;
  children: (DfSpec | EfSpec)[];
}

export const mf = (children: (DfSpec | EfSpec)[], fci?: DfSpec["fci"]): DfSpec =>
  fci ? { kind: "df", fid: 0x3f00, children, fci } : { kind: "df", fid: 0x3f00, children };

interface Node {
  spec: DfSpec | EfSpec;
  parent: DfNode | null;
  /** Store key of an EF's content / path of a DF. */
  key: string;
}
interface DfNode extends Node {
  spec: DfSpec;
  children: (DfNode | EfNode)[];
}
interface EfNode extends Node {
  spec: EfSpec;
}

const isDf = (n: DfNode | EfNode): n is DfNode => n.spec.kind === "df";
const fidHex = (fid: number) => fid.toString(16).toUpperCase().padStart(4, "0");

const DESCRIPTOR: Record<EfStructure, number> = {
  transparent: 0x01,
  "linear-fixed": 0x02,
  "linear-variable": 0x04,
  cyclic: 0x06,
};

function allowed(access: Access | undefined, fallback: boolean, ctx: AppletContext): boolean {
  if (access === undefined) return fallback;
  if (access === "always") return true;
  if (access === "never") return false;
  return access(ctx);
}

export class FileSystem {
  private readonly root: DfNode;
  private readonly bySpec = new Map<DfSpec | EfSpec, DfNode | EfNode>();
  private currentDf: DfNode;
  private currentEf: EfNode | null = null;
  private currentRecord = 0;

  constructor(root: DfSpec) {
    const built = this.build(root, null, "");
    if (!isDf(built)) throw new RangeError("the root of a file system is a DF");
    this.root = built;
    this.currentDf = built;
  }

  /** Back to a DF (default the root) with no current EF: call it from the applet's `select`/`deselect`. */
  reset(df?: DfSpec): void {
    const node = df ? this.bySpec.get(df) : this.root;
    if (!node || !isDf(node)) throw new RangeError("reset() needs a DF of this file system");
    this.currentDf = node;
    this.currentEf = null;
    this.currentRecord = 0;
  }

  get current(): { df: DfSpec; ef: EfSpec | null } {
    return { df: this.currentDf.spec, ef: this.currentEf?.spec ?? null };
  }

  /** The EF with this SFI in `df` (default: the current DF). */
  efBySfi(sfi: number, df?: DfSpec): EfSpec | undefined {
    const d = df ? this.bySpec.get(df) : this.currentDf;
    if (!d || !isDf(d)) return undefined;
    for (const c of d.children) if (!isDf(c) && c.spec.sfi === sfi) return c.spec;
    return undefined;
  }

  // ---- programmatic access (no access checks) ------------------------------------------------------

  /** A transparent EF's whole content. */
  read(ctx: AppletContext, ef: EfSpec): Bytes {
    const n = this.efNode(ef);
    const hex = ctx.store.get<string>(n.key);
    if (hex !== undefined) return fromHex(hex);
    const out = new Uint8Array(ef.size ?? 0);
    if (ef.initial instanceof Uint8Array) out.set(ef.initial.subarray(0, out.length));
    return out;
  }

  /** Writes `data` at `offset` of a transparent EF; answers 9000, 6B00 (offset) or 6700 (too long). */
  write(ctx: AppletContext, ef: EfSpec, offset: number, data: Bytes): number {
    if (ef.structure !== "transparent") return SW.COMMAND_INCOMPATIBLE_WITH_FILE;
    const content = this.read(ctx, ef);
    if (offset > content.length) return SW.WRONG_P1P2;
    if (offset + data.length > content.length) return SW.WRONG_LENGTH;
    content.set(data, offset);
    ctx.store.put(this.efNode(ef).key, toHex(content));
    return SW.OK;
  }

  /** A record EF's records, record 1 first (for a cyclic EF, record 1 is the most recent). */
  records(ctx: AppletContext, ef: EfSpec): Bytes[] {
    const n = this.efNode(ef);
    const stored = ctx.store.get<string[]>(n.key);
    if (stored !== undefined) return stored.map(fromHex);
    return Array.isArray(ef.initial) ? ef.initial.map((r) => r.slice()) : [];
  }

  /** Record `n` (1-based) or undefined. */
  readRecord(ctx: AppletContext, ef: EfSpec, n: number): Bytes | undefined {
    return this.records(ctx, ef)[n - 1];
  }

  /** Replaces record `n`; answers 9000, 6A83 (no such record), 6700 (length) or 6981 (transparent EF). */
  updateRecord(ctx: AppletContext, ef: EfSpec, n: number, data: Bytes): number {
    const sw = this.checkRecord(ef, data);
    if (sw !== SW.OK) return sw;
    const recs = this.records(ctx, ef);
    if (n < 1 || n > recs.length) return SW.RECORD_NOT_FOUND;
    recs[n - 1] = data;
    this.saveRecords(ctx, ef, recs);
    return SW.OK;
  }

  /**
   * Appends a record: a linear EF grows (6A84 when full); a cyclic EF puts it first as record 1 and drops
   * the oldest when full.
   */
  appendRecord(ctx: AppletContext, ef: EfSpec, data: Bytes): number {
    const sw = this.checkRecord(ef, data);
    if (sw !== SW.OK) return sw;
    const recs = this.records(ctx, ef);
    const max = ef.maxRecords ?? 0;
    if (ef.structure === "cyclic") {
      recs.unshift(data);
      if (recs.length > max) recs.length = max;
    } else {
      if (recs.length >= max) return SW.NOT_ENOUGH_MEMORY;
      recs.push(data);
    }
    this.saveRecords(ctx, ef, recs);
    return SW.OK;
  }

  // ---- APDU handling -------------------------------------------------------------------------------

  /** Answers an interindustry file command, or returns undefined when the command is not one. */
  handle(c: CommandApdu, ctx: AppletContext): ResponseApdu | undefined {
    if ((c.cla & 0x8c) !== 0) return undefined; // proprietary class or secure messaging: the applet's
    switch (c.ins) {
      case 0xa4:
        return this.select(c, ctx);
      case 0xb0:
        return this.readBinaryCommand(c, ctx);
      case 0xd6:
        return this.updateBinaryCommand(c, ctx);
      case 0xb2:
        return this.readRecordCommand(c, ctx);
      case 0xdc:
        return this.updateRecordCommand(c, ctx);
      case 0xe2:
        return this.appendRecordCommand(c, ctx);
      default:
        return undefined;
    }
  }

  private select(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if ((c.p2 & 0xf3) !== 0) return response(SW.INCORRECT_P1P2);
    const target = this.resolveSelect(c.p1, c.data);
    if (target === "bad-p1") return response(SW.INCORRECT_P1P2);
    if (target === "bad-data") return response(SW.WRONG_DATA);
    if (!target) return response(SW.FILE_NOT_FOUND);
    if (isDf(target)) {
      this.currentDf = target;
      this.currentEf = null;
    } else {
      this.currentDf = target.parent!;
      this.currentEf = target;
    }
    this.currentRecord = 0;
    switch (c.p2 & 0x0c) {
      case 0x00:
        return response(SW.OK, isDf(target) ? this.fci(target, ctx) : this.fcp(target, ctx));
      case 0x04:
        return response(SW.OK, this.fcp(target, ctx));
      case 0x08:
        return response(SW.OK, tlv(0x64, []));
      default:
        return response(SW.OK);
    }
  }

  private resolveSelect(p1: number, data: Bytes): DfNode | EfNode | undefined | "bad-p1" | "bad-data" {
    const fid = () => (data.length === 2 ? (data[0]! << 8) | data[1]! : -1);
    switch (p1) {
      case 0x00: {
        if (data.length === 0) return this.root;
        if (data.length !== 2) return "bad-data";
        return this.findByFid(fid());
      }
      case 0x01:
      case 0x02: {
        if (data.length !== 2) return "bad-data";
        const want = fid();
        return this.currentDf.children.find((n) => n.spec.fid === want && isDf(n) === (p1 === 0x01));
      }
      case 0x03:
        return data.length === 0 ? (this.currentDf.parent ?? undefined) : "bad-data";
      case 0x04:
        return data.length === 0 ? undefined : this.findByName(this.root, data);
      case 0x08:
      case 0x09: {
        if (data.length === 0 || data.length % 2 !== 0) return "bad-data";
        let node: DfNode | EfNode | undefined = p1 === 0x08 ? this.root : this.currentDf;
        for (let i = 0; i < data.length && node; i += 2) {
          if (!isDf(node)) return undefined;
          const want = (data[i]! << 8) | data[i + 1]!;
          node = node.children.find((n: DfNode | EfNode) => n.spec.fid === want);
        }
        return node;
      }
      default:
        return "bad-p1";
    }
  }

  /** P1 = 00: the MF, the current DF, its children, its parent and the parent's children. */
  private findByFid(want: number): DfNode | EfNode | undefined {
    if (want === 0x3f00) return this.root;
    const d = this.currentDf;
    if (d.spec.fid === want) return d;
    const child = d.children.find((n) => n.spec.fid === want);
    if (child) return child;
    const p = d.parent;
    if (!p) return undefined;
    if (p.spec.fid === want) return p;
    return p.children.find((n) => n.spec.fid === want);
  }

  private findByName(d: DfNode, name: Bytes): DfNode | undefined {
    if (d.spec.name && startsWith(d.spec.name, name)) return d;
    for (const c of d.children) {
      if (!isDf(c)) continue;
      const hit = this.findByName(c, name);
      if (hit) return hit;
    }
    return undefined;
  }

  private fci(d: DfNode, ctx: AppletContext): Bytes {
    if (d.spec.fci) return d.spec.fci(ctx);
    return tlv(
      0x6f,
      d.spec.name ? [{ tag: 0x84, value: d.spec.name }] : [{ tag: 0x83, value: this.fidBytes(d) }],
    );
  }

  private fcp(n: DfNode | EfNode, ctx: AppletContext): Bytes {
    const items: Tlv[] = [];
    if (isDf(n)) {
      items.push({ tag: 0x82, value: Uint8Array.of(0x38) });
      if (n.spec.fid !== undefined) items.push({ tag: 0x83, value: this.fidBytes(n) });
      if (n.spec.name) items.push({ tag: 0x84, value: n.spec.name });
      return tlv(0x62, items);
    }
    const s = n.spec;
    if (s.structure === "transparent") {
      items.push({ tag: 0x80, value: Uint8Array.of((s.size ?? 0) >> 8, (s.size ?? 0) & 0xff) });
      items.push({ tag: 0x82, value: Uint8Array.of(DESCRIPTOR.transparent) });
    } else {
      const rs = s.recordSize ?? 0;
      const count = this.records(ctx, s).length;
      items.push({
        tag: 0x82,
        value: Uint8Array.of(DESCRIPTOR[s.structure], 0x21, rs >> 8, rs & 0xff, count),
      });
    }
    if (s.fid !== undefined) items.push({ tag: 0x83, value: this.fidBytes(n) });
    if (s.sfi !== undefined) items.push({ tag: 0x88, value: Uint8Array.of(s.sfi << 3) });
    return tlv(0x62, items);
  }

  private fidBytes(n: Node): Bytes {
    const f = n.spec.fid ?? 0;
    return Uint8Array.of(f >> 8, f & 0xff);
  }

  /** The EF a command addresses: by SFI (then it becomes current) or the current EF. */
  private addressed(sfi: number): EfNode | number {
    if (sfi === 0) return this.currentEf ?? SW.COMMAND_NOT_ALLOWED_NO_EF;
    const spec = this.efBySfi(sfi);
    if (!spec) return SW.FILE_NOT_FOUND;
    const node = this.bySpec.get(spec) as EfNode;
    if (node !== this.currentEf) this.currentRecord = 0;
    this.currentEf = node;
    return node;
  }

  private binaryTarget(c: CommandApdu): { ef: EfNode; offset: number } | number {
    if (c.p1 & 0x80) {
      if (c.p1 & 0x60) return SW.INCORRECT_P1P2;
      const ef = this.addressed(c.p1 & 0x1f);
      return typeof ef === "number" ? ef : { ef, offset: c.p2 };
    }
    const ef = this.addressed(0);
    return typeof ef === "number" ? ef : { ef, offset: ((c.p1 & 0x7f) << 8) | c.p2 };
  }

  private readBinaryCommand(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.data.length > 0) return response(SW.WRONG_LENGTH);
    const t = this.binaryTarget(c);
    if (typeof t === "number") return response(t);
    const s = t.ef.spec;
    if (s.structure !== "transparent") return response(SW.COMMAND_INCOMPATIBLE_WITH_FILE);
    if (!allowed(s.read, true, ctx)) return response(SW.SECURITY_STATUS_NOT_SATISFIED);
    const content = this.read(ctx, s);
    if (t.offset >= content.length) return response(SW.WRONG_P1P2);
    const ne = c.ne ?? 256;
    const available = content.length - t.offset;
    // Le = 00 asks for "everything up to 256"; an explicit longer Le gets what there is and 6282.
    if (ne > available) return response(ne === 256 ? SW.OK : SW.WARNING_EOF, content.slice(t.offset));
    return response(SW.OK, content.slice(t.offset, t.offset + ne));
  }

  private updateBinaryCommand(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.data.length === 0) return response(SW.WRONG_LENGTH);
    const t = this.binaryTarget(c);
    if (typeof t === "number") return response(t);
    const s = t.ef.spec;
    if (s.structure !== "transparent") return response(SW.COMMAND_INCOMPATIBLE_WITH_FILE);
    if (!allowed(s.update, false, ctx)) return response(SW.SECURITY_STATUS_NOT_SATISFIED);
    return response(this.write(ctx, s, t.offset, c.data));
  }

  private recordEf(sfi: number, ctx: AppletContext, access: "read" | "update" | "append"): EfNode | number {
    const ef = this.addressed(sfi);
    if (typeof ef === "number") return ef;
    const s = ef.spec;
    if (s.structure === "transparent") return SW.COMMAND_INCOMPATIBLE_WITH_FILE;
    if (!allowed(s[access], access === "read", ctx)) return SW.SECURITY_STATUS_NOT_SATISFIED;
    return ef;
  }

  private readRecordCommand(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.data.length > 0) return response(SW.WRONG_LENGTH);
    const mode = c.p2 & 0x07;
    if (mode > 4) return response(SW.INCORRECT_P1P2);
    const ef = this.recordEf(c.p2 >> 3, ctx, "read");
    if (typeof ef === "number") return response(ef);
    const recs = this.records(ctx, ef.spec);
    const n = mode === 4 ? (c.p1 === 0 ? this.currentRecord : c.p1) : this.findRecordById(recs, c.p1, mode);
    const rec = n >= 1 ? recs[n - 1] : undefined;
    if (!rec) return response(SW.RECORD_NOT_FOUND);
    const ne = c.ne ?? 256;
    if (ne < rec.length && ne !== 256) return response(SW.WRONG_LE | rec.length);
    this.currentRecord = n;
    return response(SW.OK, rec);
  }

  /** Record number of the first (0), last (1), next (2) or previous (3) record whose first byte is `id`. */
  private findRecordById(recs: Bytes[], id: number, mode: number): number {
    const match = (i: number) => recs[i]?.[0] === id;
    const start = this.currentRecord;
    if (mode === 0 || mode === 2) {
      for (let i = mode === 0 ? 0 : start; i < recs.length; i++) if (match(i)) return i + 1;
    } else {
      for (let i = mode === 1 ? recs.length - 1 : start - 2; i >= 0; i--) if (match(i)) return i + 1;
    }
    return 0;
  }

  private updateRecordCommand(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    const mode = c.p2 & 0x07;
    const ef = this.recordEf(c.p2 >> 3, ctx, "update");
    if (typeof ef === "number") return response(ef);
    if (mode === 3 && ef.spec.structure === "cyclic") {
      // "previous record" on a cyclic EF: the oldest record is overwritten and becomes record 1.
      const sw = this.appendRecord(ctx, ef.spec, c.data);
      if (sw === SW.OK) this.currentRecord = 1;
      return response(sw);
    }
    if (mode !== 4) return response(SW.INCORRECT_P1P2);
    const n = c.p1 === 0 ? this.currentRecord : c.p1;
    const sw = this.updateRecord(ctx, ef.spec, n, c.data);
    if (sw === SW.OK) this.currentRecord = n;
    return response(sw);
  }

  private appendRecordCommand(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.p1 !== 0 || (c.p2 & 0x07) !== 0) return response(SW.INCORRECT_P1P2);
    const ef = this.recordEf(c.p2 >> 3, ctx, "append");
    if (typeof ef === "number") return response(ef);
    const sw = this.appendRecord(ctx, ef.spec, c.data);
    if (sw === SW.OK)
      this.currentRecord = ef.spec.structure === "cyclic" ? 1 : this.records(ctx, ef.spec).length;
    return response(sw);
  }

  private checkRecord(ef: EfSpec, data: Bytes): number {
    if (ef.structure === "transparent") return SW.COMMAND_INCOMPATIBLE_WITH_FILE;
    const rs = ef.recordSize ?? 0;
    const ok =
      ef.structure === "linear-variable" ? data.length >= 1 && data.length <= rs : data.length === rs;
    return ok ? SW.OK : SW.WRONG_LENGTH;
  }

  private saveRecords(ctx: AppletContext, ef: EfSpec, recs: Bytes[]): void {
    ctx.store.put(this.efNode(ef).key, recs.map(toHex));
  }

  private efNode(ef: EfSpec): EfNode {
    const n = this.bySpec.get(ef);
    if (!n || isDf(n)) throw new RangeError("EF is not part of this file system");
    return n;
  }

  private build(spec: DfSpec | EfSpec, parent: DfNode | null, path: string): DfNode | EfNode {
    if (this.bySpec.has(spec)) throw new RangeError("a file spec appears twice in the tree");
    if (spec.kind === "ef") {
      const id = spec.fid !== undefined ? fidHex(spec.fid) : spec.sfi !== undefined ? `sfi${spec.sfi}` : "";
      if (!id) throw new RangeError("an EF needs a FID or an SFI");
      if (spec.sfi !== undefined && (spec.sfi < 1 || spec.sfi > 30)) throw new RangeError(`SFI ${spec.sfi}`);
      const node: EfNode = { spec, parent, key: `fs:${path}/${id}` };
      this.bySpec.set(spec, node);
      return node;
    }
    const id = spec.fid !== undefined ? fidHex(spec.fid) : spec.name ? toHex(spec.name) : "DF";
    const node: DfNode = { spec, parent, key: path ? `${path}/${id}` : id, children: [] };
    this.bySpec.set(spec, node);
    for (const c of spec.children) node.children.push(this.build(c, node, node.key));
    return node;
  }
}
