/**
 * Small applet packages for SE-level tests (not card applications). Instance params choose the contactless
 * attributes, so one package plays a bank card, a transit card or a door card:
 *
 *   params: { category?: "payment" | "transit" | "access" | "other" (absent: contact-only),
 *             label?: string, priority?: number, kernelId?: number, selectionAids?: string[] (hex),
 *             writes?: number (store writes per COUNT, default 3), big?: number (bytes of 80 14's answer) }
 *
 * "test.applet" commands (CLA 80): 10 COUNT (writes `writes` keys, answers the new count, 4 bytes),
 * 12 READ COUNT, 14 BIG (answers `big` bytes), EE FAIL (writes, then throws), 16 REFUSE (writes, answers
 * 6985 — error answers commit too). STORE DATA DGIs are kept as `dgi:<DGI>`; DGI FFFF is refused (6A80).
 * "test.files" is a file-based applet over `FileSystem` (MF, DF 1001 with EFs 0015/0018/0019/001A).
 */
import { type CommandApdu, type ResponseApdu, response } from "../../core/apdu.js";
import { type Bytes, ascii, fromHex, readUintBE, toHex, uintBE } from "../../core/bytes.js";
import { SW } from "../../core/sw.js";
import { tlv } from "../../core/tlv.js";
import type { Applet, AppletContext, AppletPackage, ContactlessInfo, Json } from "../applet.js";
import { type DfSpec, type EfSpec, FileSystem, mf } from "../files.js";

interface SampleParams {
  category?: ContactlessInfo["category"];
  label?: string;
  priority?: number;
  kernelId?: number;
  selectionAids?: string[];
  writes?: number;
  big?: number;
}

const paramsOf = (p: Json): SampleParams =>
  p && typeof p === "object" && !Array.isArray(p) ? (p as SampleParams) : {};

function contactless(params: Json): ContactlessInfo | undefined {
  const p = paramsOf(params);
  if (!p.category) return undefined;
  const info: ContactlessInfo = { category: p.category };
  if (p.label !== undefined) {
    const entry: { label: string; priority: number; kernelId?: number } = {
      label: p.label,
      priority: p.priority ?? 1,
    };
    if (p.kernelId !== undefined) entry.kernelId = p.kernelId;
    info.ppse = [entry];
  }
  if (p.selectionAids) info.selectionAids = p.selectionAids.map(fromHex);
  return info;
}

class SampleApplet implements Applet {
  constructor(
    private readonly aid: Bytes,
    private readonly params: SampleParams,
  ) {}

  select(_c: CommandApdu, ctx: AppletContext): ResponseApdu {
    return response(
      SW.OK,
      tlv(0x6f, [
        { tag: 0x84, value: ctx.selectedAid },
        { tag: 0xa5, value: ascii("TEST") },
      ]),
    );
  }

  process(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    if (c.cla !== 0x80) return response(SW.CLA_NOT_SUPPORTED);
    const count = ctx.store.get<number>("count") ?? 0;
    switch (c.ins) {
      case 0x10: {
        const n = count + 1;
        const writes = this.params.writes ?? 3;
        ctx.store.put("count", n);
        for (let i = 1; i < writes; i++) ctx.store.put(`log:${i}`, n * 100 + i);
        return response(SW.OK, uintBE(n, 4));
      }
      case 0x12:
        return response(SW.OK, uintBE(count, 4));
      case 0x14: {
        const n = this.params.big ?? 300;
        return response(
          SW.OK,
          Uint8Array.from({ length: n }, (_, i) => i & 0xff),
        );
      }
      case 0xee:
        ctx.store.put("count", count + 1000);
        throw new Error("sample applet failure");
      case 0x16:
        ctx.store.put("refusals", (ctx.store.get<number>("refusals") ?? 0) + 1);
        return response(SW.CONDITIONS_NOT_SATISFIED);
      default:
        return response(SW.INS_NOT_SUPPORTED);
    }
  }

  install(ctx: AppletContext): void {
    ctx.store.put("installedAs", toHex(this.aid));
  }

  personalize(dgi: number, data: Bytes, ctx: AppletContext): number {
    if (dgi === 0xffff) return SW.WRONG_DATA;
    ctx.store.put(`dgi:${dgi.toString(16).toUpperCase().padStart(4, "0")}`, toHex(data));
    return SW.OK;
  }
}

export const samplePackage: AppletPackage = {
  id: "test.applet",
  create: ({ aid, params }) => new SampleApplet(aid, paramsOf(params)),
  contactless: ({ params }) => contactless(params),
};

/** The file tree of "test.files": what a PBOC e-purse looks like, cut down. */
export function sampleFileTree(): {
  root: DfSpec;
  adf: DfSpec;
  ef15: EfSpec;
  ef18: EfSpec;
  ef19: EfSpec;
  ef1a: EfSpec;
} {
  const ef15: EfSpec = {
    kind: "ef",
    fid: 0x0015,
    sfi: 0x15,
    structure: "transparent",
    size: 30,
    update: "always",
  };
  const ef18: EfSpec = {
    kind: "ef",
    fid: 0x0018,
    sfi: 0x18,
    structure: "cyclic",
    recordSize: 23,
    maxRecords: 3,
    append: "always",
    update: "always",
  };
  const ef19: EfSpec = {
    kind: "ef",
    fid: 0x0019,
    sfi: 0x19,
    structure: "linear-fixed",
    recordSize: 4,
    maxRecords: 2,
    initial: [fromHex("01000000"), fromHex("02000000")],
    update: "always",
    append: "always",
  };
  const ef1a: EfSpec = {
    kind: "ef",
    sfi: 0x1a,
    structure: "linear-variable",
    recordSize: 8,
    maxRecords: 2,
    append: "always",
    read: "never",
  };
  const adf: DfSpec = {
    kind: "df",
    fid: 0x1001,
    name: fromHex("A00000000386980701"),
    children: [ef15, ef18, ef19, ef1a],
  };
  const ef05: EfSpec = {
    kind: "ef",
    fid: 0x0005,
    structure: "transparent",
    size: 8,
    initial: fromHex("0102030405060708"),
  };
  return { root: mf([ef05, adf]), adf, ef15, ef18, ef19, ef1a };
}

class FileApplet implements Applet {
  private readonly tree = sampleFileTree();
  readonly fs = new FileSystem(this.tree.root);

  select(_c: CommandApdu, ctx: AppletContext): ResponseApdu {
    this.fs.reset(this.tree.adf);
    return response(SW.OK, tlv(0x6f, [{ tag: 0x84, value: ctx.selectedAid }]));
  }

  process(c: CommandApdu, ctx: AppletContext): ResponseApdu {
    const r = this.fs.handle(c, ctx);
    if (r) return r;
    if (c.cla === 0x80 && c.ins === 0x5c) {
      // GET BALANCE-like: the first 4 bytes of EF15 as a number
      return response(SW.OK, uintBE(readUintBE(this.fs.read(ctx, this.tree.ef15), 0, 4), 4));
    }
    return response(SW.INS_NOT_SUPPORTED);
  }

  deselect(): void {
    this.fs.reset();
  }
}

export const fileSamplePackage: AppletPackage = {
  id: "test.files",
  create: () => new FileApplet(),
  contactless: () => ({ category: "transit" }),
};
