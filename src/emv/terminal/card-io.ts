/**
 * The terminal's side of the field for the kernel: sends a command APDU through the `Link` and hands back a
 * parsed response, turning every transport failure (card gone, reader error) and every malformed response
 * into a value — the kernel never sees an exception from the card.
 */
import { type CommandApdu, type ResponseApdu, encodeCommand, parseResponse } from "../../core/apdu.js";
import { type Result, err, ok } from "../../core/result.js";
import type { Link } from "../../nfc/link.js";

/** Short-APDU responses carry at most 256 data bytes; anything longer is a broken or hostile card. */
const MAX_RESPONSE_DATA = 256;

export type IoFailure = "card-gone" | "malformed";

export class CardIo {
  constructor(readonly link: Link) {}

  async send(command: CommandApdu): Promise<Result<ResponseApdu, IoFailure>> {
    let raw: Uint8Array;
    try {
      raw = await this.link.transceive(encodeCommand(command));
    } catch {
      return err("card-gone");
    }
    if (!(raw instanceof Uint8Array)) return err("malformed");
    const r = parseResponse(raw);
    if (!r.ok || r.value.data.length > MAX_RESPONSE_DATA) return err("malformed");
    return ok(r.value);
  }
}
