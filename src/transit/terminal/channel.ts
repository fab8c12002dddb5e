/**
 * The terminal's view of a card: commands out over a `Link`, responses parsed. A response shorter than a
 * status word is reported as 6F00 rather than thrown; a card leaving the field is `CardGoneError` (the
 * caller decides whether a transaction was torn).
 */
import { type CommandApdu, type ResponseApdu, encodeCommand, parseResponse } from "../../core/apdu.js";
import type { Bytes } from "../../core/bytes.js";
import { SW } from "../../core/sw.js";
import type { Link } from "../../nfc/link.js";

export class CardChannel {
  /** Exchanges sent (for benchmarks and the air-time bound). */
  readonly exchanges: { command: Bytes; response: Bytes }[] = [];

  constructor(
    readonly link: Link,
    private readonly record = false,
  ) {}

  async send(c: CommandApdu): Promise<ResponseApdu> {
    const command = encodeCommand(c);
    const raw = await this.link.transceive(command);
    if (this.record) this.exchanges.push({ command, response: raw });
    const r = parseResponse(raw);
    return r.ok ? r.value : { data: new Uint8Array(0), sw: SW.UNKNOWN };
  }

  /** SELECT by DF name (first occurrence, FCI wanted). */
  select(name: Bytes): Promise<ResponseApdu> {
    return this.send({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: name, ne: 256 });
  }

  /** SELECT by file identifier (00 A4 00 00 02 FID). */
  selectFid(fid: number): Promise<ResponseApdu> {
    return this.send({
      cla: 0x00,
      ins: 0xa4,
      p1: 0x00,
      p2: 0x00,
      data: Uint8Array.of(fid >> 8, fid & 0xff),
      ne: 256,
    });
  }

  readBinary(sfi: number, offset = 0, ne = 256): Promise<ResponseApdu> {
    return this.send({ cla: 0x00, ins: 0xb0, p1: 0x80 | sfi, p2: offset, data: new Uint8Array(0), ne });
  }

  readRecord(sfi: number, n: number, mode = 0b100): Promise<ResponseApdu> {
    return this.send({
      cla: 0x00,
      ins: 0xb2,
      p1: n,
      p2: (sfi << 3) | mode,
      data: new Uint8Array(0),
      ne: 256,
    });
  }

  /** GET BALANCE of the electronic purse (80 5C P1 02 04). */
  getBalance(p1 = 0): Promise<ResponseApdu> {
    return this.send({ cla: 0x80, ins: 0x5c, p1, p2: 0x02, data: new Uint8Array(0), ne: p1 === 5 ? 16 : 4 });
  }
}
