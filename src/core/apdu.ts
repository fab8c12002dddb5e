/**
 * ISO/IEC 7816-4 command and response APDUs: cases 1–4, short and extended length.
 * Parsing untrusted bytes never throws; it returns a `Result` with the reason and the status word a card
 * should answer with.
 */
import { type Bytes, concat, toHex } from "./bytes.js";
import { type Result, err, ok } from "./result.js";
import { SW } from "./sw.js";

export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data (Lc bytes); empty for cases 1 and 2. */
  data: Bytes;
  /**
   * Expected response length Ne: `undefined` = no Le (cases 1, 3); otherwise 1..65536, where a short
   * Le of 00 means 256 and an extended Le of 0000 means 65536.
   */
  ne?: number;
  /** Whether the APDU is (or is to be) encoded with extended lengths. */
  extended?: boolean;
}

export interface ResponseApdu {
  data: Bytes;
  sw: number;
}

export interface ApduParseError {
  reason: string;
  /** The status word a card answers to this malformed command. */
  sw: number;
}

export function command(
  cla: number,
  ins: number,
  p1: number,
  p2: number,
  data: Bytes = new Uint8Array(0),
  ne?: number,
): CommandApdu {
  return ne === undefined ? { cla, ins, p1, p2, data } : { cla, ins, p1, p2, data, ne };
}

/** The ISO 7816-4 case number (1–4) of a command. */
export function apduCase(c: CommandApdu): 1 | 2 | 3 | 4 {
  const hasData = c.data.length > 0;
  const hasLe = c.ne !== undefined;
  return hasData ? (hasLe ? 4 : 3) : hasLe ? 2 : 1;
}

export function encodeCommand(c: CommandApdu): Bytes {
  const header = Uint8Array.of(c.cla & 0xff, c.ins & 0xff, c.p1 & 0xff, c.p2 & 0xff);
  const nc = c.data.length;
  const ne = c.ne;
  if (nc > 65535) throw new RangeError(`command data of ${nc} bytes exceeds 65535`);
  if (ne !== undefined && (ne < 1 || ne > 65536 || !Number.isInteger(ne)))
    throw new RangeError(`Ne ${ne} out of range 1..65536`);
  const extended = c.extended || nc > 255 || (ne !== undefined && ne > 256);
  if (!extended) {
    const parts: Bytes[] = [header];
    if (nc > 0) parts.push(Uint8Array.of(nc), c.data);
    if (ne !== undefined) parts.push(Uint8Array.of(ne === 256 ? 0 : ne));
    return concat(...parts);
  }
  const le2 = (n: number) => Uint8Array.of((n === 65536 ? 0 : n) >> 8, (n === 65536 ? 0 : n) & 0xff);
  const parts: Bytes[] = [header];
  if (nc > 0) parts.push(Uint8Array.of(0, nc >> 8, nc & 0xff), c.data);
  if (ne !== undefined) parts.push(nc > 0 ? le2(ne) : concat(Uint8Array.of(0), le2(ne)));
  if (nc === 0 && ne === undefined) return header;
  return concat(...parts);
}

/** Parses a command APDU per ISO 7816-4 §5.1. */
export function parseCommand(bytes: Bytes): Result<CommandApdu, ApduParseError> {
  const n = bytes.length;
  if (n < 4)
    return err({ reason: `APDU of ${n} bytes is shorter than the 4-byte header`, sw: SW.WRONG_LENGTH });
  const [cla, ins, p1, p2] = [bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!];
  const body = bytes.subarray(4);
  const base = { cla, ins, p1, p2 };
  const empty = new Uint8Array(0);
  if (body.length === 0) return ok({ ...base, data: empty }); // case 1
  if (body.length === 1) return ok({ ...base, data: empty, ne: body[0] === 0 ? 256 : body[0]! }); // case 2S
  const b0 = body[0]!;
  if (b0 !== 0) {
    // short cases 3S / 4S
    const lc = b0;
    if (body.length === 1 + lc) return ok({ ...base, data: body.slice(1) });
    if (body.length === 2 + lc) {
      const le = body[1 + lc]!;
      return ok({ ...base, data: body.slice(1, 1 + lc), ne: le === 0 ? 256 : le });
    }
    return err({
      reason: `Lc ${lc} does not match ${body.length - 1} bytes that follow`,
      sw: SW.WRONG_LENGTH,
    });
  }
  // b0 == 0: extended, or a short case with Lc = 0 which ISO forbids
  if (body.length === 3) {
    const le = (body[1]! << 8) | body[2]!;
    return ok({ ...base, data: empty, ne: le === 0 ? 65536 : le, extended: true }); // case 2E
  }
  if (body.length < 3)
    return err({
      reason: "Lc of 00 (or a truncated extended length) is not a valid APDU body",
      sw: SW.WRONG_LENGTH,
    });
  const lc = (body[1]! << 8) | body[2]!;
  if (lc === 0) return err({ reason: "extended Lc of 0000 is not allowed", sw: SW.WRONG_LENGTH });
  if (body.length === 3 + lc) return ok({ ...base, data: body.slice(3), extended: true }); // case 3E
  if (body.length === 5 + lc) {
    const le = (body[3 + lc]! << 8) | body[4 + lc]!;
    return ok({ ...base, data: body.slice(3, 3 + lc), ne: le === 0 ? 65536 : le, extended: true }); // case 4E
  }
  return err({
    reason: `extended Lc ${lc} does not match ${body.length - 3} bytes that follow`,
    sw: SW.WRONG_LENGTH,
  });
}

export function encodeResponse(r: ResponseApdu): Bytes {
  return concat(r.data, Uint8Array.of(r.sw >> 8, r.sw & 0xff));
}

/** Splits a response into data and status word; fewer than 2 bytes is an error value. */
export function parseResponse(bytes: Bytes): Result<ResponseApdu> {
  if (bytes.length < 2) return err(`response of ${bytes.length} bytes has no status word`);
  const n = bytes.length;
  return ok({ data: bytes.slice(0, n - 2), sw: (bytes[n - 2]! << 8) | bytes[n - 1]! });
}

export function response(sw: number, data: Bytes = new Uint8Array(0)): ResponseApdu {
  return { data, sw };
}

export function swHex(sw: number): string {
  return sw.toString(16).toUpperCase().padStart(4, "0");
}

export function commandHex(c: CommandApdu): string {
  return toHex(encodeCommand(c));
}
