/**
 * A card answering from a card image (`image.ts`) as an ISO/IEC 7816-4 card with an MF, applications
 * (ADFs) and their EFs would, so that any reasonable reader works: SELECT PPSE and SELECT by AID (full or
 * partial DF name, first or next occurrence), SELECT by FID (00xx = the EF of SFI xx, the ADF's own FID,
 * 3F00 = MF), by path, READ BINARY / READ RECORD by SFI or on the current EF, GET BALANCE and GET DATA.
 *
 * Length rules (documented in docs/REPLAY.md):
 * - Le = 00 (or extended 0000) means "up to 256 (65536)": the card answers what there is, 9000.
 * - READ BINARY: Le shorter than what remains reads Le bytes; an Le beyond the end gets 6CXX with the
 *   exact remaining length (the reader repeats with Le = XX, as Metrodroid does); an offset at or beyond the
 *   end gets 6B00.
 * - READ RECORD reads whole records: any Le other than 00 or the record's length gets 6CXX.
 * Every other command gets the ISO status word it deserves; nothing throws.
 */
import { type CommandApdu, encodeResponse, parseCommand } from "../../core/apdu.js";
import { type Bytes, ascii, equal, startsWith, toHex } from "../../core/bytes.js";
import { type Result, ok } from "../../core/result.js";
import { SW } from "../../core/sw.js";
import type { Activation, ContactlessCard } from "../link.js";
import { copyActivation, defaultReplayActivation } from "./activation.js";
import { type CardImage, type ImageApplication, type ImageFile, loadImage } from "./image.js";

const PPSE_NAME = ascii("2PAY.SYS.DDF01");
const MF = 0x3f00;

const respond = (sw: number, data: Bytes = new Uint8Array(0)): Bytes => encodeResponse({ data, sw });

/** Where the card is: MF (no application), the PPSE, or an application and maybe one of its EFs. */
type Selection = { kind: "mf" } | { kind: "ppse" } | { kind: "app"; app: number; ef: number | null };

export class ImageCard implements ContactlessCard {
  private sel: Selection = { kind: "mf" };

  constructor(private readonly image: CardImage) {}

  static fromJson(json: unknown): Result<ImageCard> {
    const image = loadImage(json);
    return image.ok ? ok(new ImageCard(image.value)) : image;
  }

  activate(): Activation {
    this.sel = { kind: "mf" };
    return this.image.activation ? copyActivation(this.image.activation) : defaultReplayActivation();
  }

  deactivate(): void {
    this.sel = { kind: "mf" };
  }

  process(bytes: Bytes): Bytes {
    const parsed = parseCommand(bytes);
    if (!parsed.ok) return respond(parsed.error.sw);
    const c = parsed.value;
    if (c.cla === 0xff) return respond(SW.CLA_NOT_SUPPORTED); // PC/SC pseudo-APDUs belong to the reader
    if ((c.cla & 0x80) === 0 && (c.cla & 0x03) !== 0) return respond(SW.LOGICAL_CHANNEL_NOT_SUPPORTED);
    if (c.cla & 0x0c) return respond(SW.SECURE_MESSAGING_NOT_SUPPORTED);
    if (c.cla !== 0x00 && c.cla !== 0x80) return respond(SW.CLA_NOT_SUPPORTED);
    switch (c.ins) {
      case 0xa4:
        return this.select(c);
      case 0xb0:
        return this.readBinary(c);
      case 0xb2:
        return this.readRecord(c);
      case 0x5c:
        return c.cla === 0x80 ? this.getBalance(c) : respond(SW.INS_NOT_SUPPORTED);
      case 0xca:
      case 0xcb:
        return this.getData(bytes);
      default:
        return respond(SW.INS_NOT_SUPPORTED);
    }
  }

  private app(): ImageApplication | undefined {
    return this.sel.kind === "app" ? this.image.applications[this.sel.app] : undefined;
  }

  private select(c: CommandApdu): Bytes {
    if (c.cla !== 0x00) return respond(SW.CLA_NOT_SUPPORTED);
    const occurrence = c.p2 & 0x03;
    const fciWanted = (c.p2 & 0x0c) !== 0x0c;
    if ((c.p2 & 0xf0) !== 0 || occurrence === 0x01 || occurrence === 0x03) return respond(SW.INCORRECT_P1P2);
    switch (c.p1) {
      case 0x04:
        return this.selectByName(c.data, occurrence === 0x02, fciWanted);
      case 0x00:
        return this.selectByFid(c.data, true);
      case 0x01:
        return c.data.length === 2
          ? this.selectDf((c.data[0]! << 8) | c.data[1]!, fciWanted)
          : respond(SW.WRONG_DATA);
      case 0x02:
        return c.data.length === 2 ? this.selectEf((c.data[0]! << 8) | c.data[1]!) : respond(SW.WRONG_DATA);
      case 0x03:
        this.sel = { kind: "mf" };
        return respond(SW.OK);
      case 0x08:
      case 0x09:
        return this.selectPath(c.data, c.p1 === 0x08, fciWanted);
      default:
        return respond(SW.INCORRECT_P1P2);
    }
  }

  private selectByName(name: Bytes, next: boolean, fciWanted: boolean): Bytes {
    if (name.length === 0) return this.selectByFid(name, fciWanted);
    if (this.image.ppse && equal(name, PPSE_NAME) && !next) {
      this.sel = { kind: "ppse" };
      return respond(SW.OK, fciWanted ? this.image.ppse : undefined);
    }
    const apps = this.image.applications;
    const current = this.sel.kind === "app" ? this.sel.app : -1;
    const from = next && current >= 0 && startsWith(apps[current]!.aid, name) ? current + 1 : 0;
    for (let i = from; i < apps.length; i++) {
      if (startsWith(apps[i]!.aid, name)) {
        this.sel = { kind: "app", app: i, ef: null };
        return respond(SW.OK, fciWanted ? apps[i]!.fci : undefined);
      }
    }
    return respond(SW.FILE_NOT_FOUND);
  }

  /** P1 = 00: MF (no data or 3F00), an ADF by its FID, or an EF 00xx of the current application. */
  private selectByFid(data: Bytes, fciWanted: boolean): Bytes {
    if (data.length === 0) {
      this.sel = { kind: "mf" };
      return respond(SW.OK);
    }
    if (data.length !== 2) return respond(SW.WRONG_DATA);
    const fid = (data[0]! << 8) | data[1]!;
    if (fid === MF) {
      this.sel = { kind: "mf" };
      return respond(SW.OK);
    }
    if (this.sel.kind === "app" && this.efSfi(fid) !== null) return this.selectEf(fid);
    return this.selectDf(fid, fciWanted);
  }

  private selectDf(fid: number, fciWanted: boolean): Bytes {
    const i = this.image.applications.findIndex((a) => a.fid === fid);
    if (i < 0) return respond(SW.FILE_NOT_FOUND);
    this.sel = { kind: "app", app: i, ef: null };
    return respond(SW.OK, fciWanted ? this.image.applications[i]!.fci : undefined);
  }

  /** The SFI an EF identifier 00xx names in the current application, if that file exists. */
  private efSfi(fid: number): number | null {
    const app = this.app();
    return app && fid >> 8 === 0 && app.files.has(fid) ? fid : null;
  }

  private selectEf(fid: number): Bytes {
    const sfi = this.efSfi(fid);
    if (sfi === null || this.sel.kind !== "app") return respond(SW.FILE_NOT_FOUND);
    this.sel = { ...this.sel, ef: sfi };
    return respond(SW.OK);
  }

  private selectPath(path: Bytes, fromMf: boolean, fciWanted: boolean): Bytes {
    if (path.length === 0 || path.length % 2) return respond(SW.WRONG_DATA);
    const fids: number[] = [];
    for (let i = 0; i < path.length; i += 2) fids.push((path[i]! << 8) | path[i + 1]!);
    const saved = this.sel;
    if (fromMf) this.sel = { kind: "mf" };
    if (fids[0] === MF) fids.shift();
    let last: Bytes = respond(SW.OK);
    for (const fid of fids) {
      last =
        this.sel.kind === "app" && this.efSfi(fid) !== null
          ? this.selectEf(fid)
          : this.selectDf(fid, fciWanted);
      if (last[last.length - 2] !== 0x90) {
        this.sel = saved;
        return respond(SW.FILE_NOT_FOUND);
      }
    }
    return last;
  }

  /** The EF a READ names: by SFI (which also makes it current), or the current EF. */
  private resolveEf(sfi: number): { file: ImageFile } | { sw: number } {
    const app = this.app();
    if (sfi === 0) {
      if (!app || this.sel.kind !== "app" || this.sel.ef === null)
        return { sw: SW.COMMAND_NOT_ALLOWED_NO_EF };
      return { file: app.files.get(this.sel.ef)! };
    }
    const file = app?.files.get(sfi);
    if (!file || this.sel.kind !== "app") return { sw: SW.FILE_NOT_FOUND };
    this.sel = { ...this.sel, ef: sfi };
    return { file };
  }

  private readBinary(c: CommandApdu): Bytes {
    if (c.cla !== 0x00) return respond(SW.CLA_NOT_SUPPORTED);
    if (c.data.length > 0 || c.ne === undefined) return respond(SW.WRONG_LENGTH);
    const bySfi = (c.p1 & 0x80) !== 0;
    if (bySfi && (c.p1 & 0x60) !== 0) return respond(SW.INCORRECT_P1P2);
    const ef = this.resolveEf(bySfi ? c.p1 & 0x1f : 0);
    if ("sw" in ef) return respond(ef.sw);
    const content = ef.file.binary;
    if (!content) return respond(SW.COMMAND_INCOMPATIBLE_WITH_FILE);
    const offset = bySfi ? c.p2 : ((c.p1 & 0x7f) << 8) | c.p2;
    if (offset >= content.length) return respond(SW.WRONG_P1P2);
    const remaining = content.length - offset;
    return this.answerLength(c, content.subarray(offset), remaining, true);
  }

  private readRecord(c: CommandApdu): Bytes {
    if (c.cla !== 0x00) return respond(SW.CLA_NOT_SUPPORTED);
    if (c.data.length > 0 || c.ne === undefined) return respond(SW.WRONG_LENGTH);
    const sfi = c.p2 >> 3;
    if ((c.p2 & 0x07) !== 0x04 || sfi === 0x1f || c.p1 === 0) return respond(SW.INCORRECT_P1P2);
    const ef = this.resolveEf(sfi);
    if ("sw" in ef) return respond(ef.sw);
    const records = ef.file.records;
    if (!records) return respond(SW.COMMAND_INCOMPATIBLE_WITH_FILE);
    const record = records[c.p1 - 1];
    if (!record) return respond(SW.RECORD_NOT_FOUND);
    return this.answerLength(c, record, record.length, false);
  }

  /** Le rules shared by READ BINARY (partial reads allowed) and READ RECORD (whole records). */
  private answerLength(c: CommandApdu, data: Bytes, available: number, partial: boolean): Bytes {
    const ne = c.ne!;
    const max = c.extended ? 65536 : 256;
    if (ne === max) return respond(SW.OK, data.subarray(0, max));
    if (ne === available || (partial && ne < available)) return respond(SW.OK, data.subarray(0, ne));
    if (available > 255) return respond(SW.WRONG_LENGTH);
    return respond(SW.WRONG_LE | available);
  }

  private getBalance(c: CommandApdu): Bytes {
    const balances = this.app()?.balances;
    if (!balances) return respond(SW.INS_NOT_SUPPORTED);
    if (c.p2 !== 0x01 && c.p2 !== 0x02) return respond(SW.INCORRECT_P1P2);
    if (c.data.length > 0 || c.ne === undefined) return respond(SW.WRONG_LENGTH);
    const balance = balances.get(c.p1);
    if (!balance) return respond(SW.INCORRECT_P1P2);
    if (c.ne !== 4 && c.ne !== 256) return respond(SW.WRONG_LE | 4);
    return respond(SW.OK, balance);
  }

  private getData(bytes: Bytes): Bytes {
    const table = this.app()?.getData;
    const hex = toHex(bytes);
    const header = hex.slice(0, 8);
    const answer =
      table?.get(hex) ?? [...(table ?? new Map<string, Bytes>())].find(([k]) => k.startsWith(header))?.[1];
    return answer ? respond(SW.OK, answer) : respond(SW.REFERENCED_DATA_NOT_FOUND);
  }
}
