/**
 * ACR122U-style readers (ACS ACR122U/ACR122T, and ACR1252U in its ACR122 mode): the reader's firmware
 * answers the PC/SC pseudo-APDUs (pcsc-storage.ts covers MIFARE Classic with them) and, with the "direct
 * transmit" pseudo-APDU `FF 00 00 00 Lc <PN53x command>`, passes a command to its NXP PN532/PN533 front end:
 *   D4 4A 01 00       InListPassiveTarget (106 kbit/s type A): ATQA, SAK, UID, ATS — what PC/SC does not show
 *   D4 40 01 <data>   InDataExchange with target 1 (MIFARE commands with the PN53x's own Crypto1, ISO-DEP)
 *   D4 42 <data>      InCommunicateThru (raw frames, CRC added by the chip: Ultralight, NTAG)
 * The answer is `D5 <command + 1> <status> …` then 90 00; ACR122U firmware 1.x answers `61 XX` instead, to be
 * fetched with `FF C0 00 00 XX`. `FF 00 48 00 00` returns the firmware version as text.
 * These go through `Link.transceive`, so a card must be in the field; the reader's escape channel without a
 * card (SCardControl 3500) is `PcscLink.control`.
 */
import { type Bytes, concat, readAscii } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import { SW } from "../core/sw.js";
import type { Activation, Link } from "./link.js";

/** Reader names that are ACR122-compatible (nfc-pcsc uses the same test). */
export function isAcr122u(readerName: string): boolean {
  return /acr12[25]/i.test(readerName);
}

const Pn53x = {
  IN_DATA_EXCHANGE: 0x40,
  IN_COMMUNICATE_THRU: 0x42,
  IN_LIST_PASSIVE_TARGET: 0x4a,
} as const;

/** `FF 00 00 00 Lc D4 <command> <parameters>`. */
export function directTransmit(command: number, parameters: Bytes = new Uint8Array(0)): Bytes {
  const frame = concat(Uint8Array.of(0xd4, command), parameters);
  if (frame.length > 0xff) throw new RangeError(`PN53x frame of ${frame.length} bytes exceeds 255`);
  return concat(Uint8Array.of(0xff, 0x00, 0x00, 0x00, frame.length), frame);
}

/** PN533 status byte (low 6 bits) meanings, for messages. */
const PN53X_STATUS: Record<number, string> = {
  0x01: "timeout: the target did not answer",
  0x02: "CRC error",
  0x03: "parity error",
  0x0a: "RF protocol error",
  0x13: "framing error",
  0x14: "MIFARE authentication error",
  0x27: "command not acceptable in this context",
  0x29: "target released by the initiator",
};

export interface Acr122uFailure {
  /** The reader's SW (other than 90 00), or 9000 when the PN53x reported a status. */
  sw: number;
  /** PN53x status byte when the chip answered with an error. */
  status?: number;
  reason: string;
}

export class Acr122uDirect {
  constructor(readonly link: Link) {}

  /** Sends a pseudo-APDU, following `61 XX` with GET RESPONSE as firmware 1.x needs. */
  private async send(apdu: Bytes): Promise<Bytes> {
    let r = await this.link.transceive(apdu);
    if (r.length === 2 && r[0] === 0x61)
      r = await this.link.transceive(Uint8Array.of(0xff, 0xc0, 0x00, 0x00, r[1]!));
    return r;
  }

  /** Runs one PN53x command; the answer's parameters after `D5 <command+1>` (and the status byte, if any). */
  async command(
    command: number,
    parameters: Bytes = new Uint8Array(0),
  ): Promise<Result<Bytes, Acr122uFailure>> {
    const r = await this.send(directTransmit(command, parameters));
    if (r.length < 2) return err({ sw: SW.UNKNOWN, reason: "answer without status word" });
    const sw = (r[r.length - 2]! << 8) | r[r.length - 1]!;
    if (sw !== SW.OK) return err({ sw, reason: "the reader refused the direct transmit" });
    const data = r.subarray(0, r.length - 2);
    if (data.length < 2 || data[0] !== 0xd5 || data[1] !== ((command + 1) & 0xff))
      return err({ sw, reason: "not a PN53x answer to this command" });
    return ok(data.slice(2));
  }

  /** A command whose answer starts with a status byte (InDataExchange, InCommunicateThru). */
  private async withStatus(command: number, parameters: Bytes): Promise<Result<Bytes, Acr122uFailure>> {
    const r = await this.command(command, parameters);
    if (!r.ok) return r;
    if (r.value.length < 1) return err({ sw: SW.OK, reason: "PN53x answer without status byte" });
    const status = r.value[0]! & 0x3f;
    if (status !== 0)
      return err({
        sw: SW.OK,
        status,
        reason: PN53X_STATUS[status] ?? `PN53x status ${status.toString(16)}`,
      });
    return ok(r.value.slice(1));
  }

  /** InDataExchange with target 1 (the card the reader activated). */
  inDataExchange(data: Bytes, target = 1): Promise<Result<Bytes, Acr122uFailure>> {
    return this.withStatus(Pn53x.IN_DATA_EXCHANGE, concat(Uint8Array.of(target), data));
  }

  /** InCommunicateThru: a raw ISO 14443-3 frame (the chip adds and checks CRC_A). */
  inCommunicateThru(frame: Bytes): Promise<Result<Bytes, Acr122uFailure>> {
    return this.withStatus(Pn53x.IN_COMMUNICATE_THRU, frame);
  }

  /**
   * InListPassiveTarget at 106 kbit/s type A: the activation data PC/SC hides (ATQA, SAK; ATS for ISO-DEP).
   * The PN53x gives ATQA most significant byte first, as `Activation` holds it.
   */
  async inListPassiveTarget(): Promise<Result<Activation, Acr122uFailure>> {
    const r = await this.command(Pn53x.IN_LIST_PASSIVE_TARGET, Uint8Array.of(0x01, 0x00));
    if (!r.ok) return r;
    const p = r.value;
    if (p.length < 1 || p[0] === 0) return err({ sw: SW.OK, reason: "no type A target in the field" });
    // NbTg, Tg, SENS_RES (2), SEL_RES, NFCIDLength, NFCID1, [ATS]
    const uidLen = p[5];
    if (p.length < 6 || uidLen === undefined || p.length < 6 + uidLen)
      return err({ sw: SW.OK, reason: "truncated InListPassiveTarget answer" });
    const activation: Activation = { uid: p.slice(6, 6 + uidLen), atqa: p.slice(2, 4), sak: p[4]! };
    const ats = p.slice(6 + uidLen);
    return ok(ats.length > 0 ? { ...activation, ats } : activation);
  }

  /** The firmware version text (`FF 00 48 00 00`, e.g. "ACR122U207"); ACR122U answers it without an SW. */
  async firmwareVersion(): Promise<string> {
    const r = await this.send(Uint8Array.of(0xff, 0x00, 0x48, 0x00, 0x00));
    const n = r.length;
    const body = n >= 2 && r[n - 2] === 0x90 && r[n - 1] === 0x00 ? r.subarray(0, n - 2) : r;
    return readAscii(body);
  }
}
