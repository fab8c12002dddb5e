/** node:crypto returns Buffers; the rest of Tapwallet works with plain Uint8Arrays. */
import type { Bytes } from "../core/bytes.js";

/**
 * A plain Uint8Array with the same bytes: a view when the Buffer owns its whole ArrayBuffer, else a copy, so
 * a caller never reaches other data through `.buffer` (small Buffers can share Node's pool).
 */
export function plain(b: Buffer): Bytes {
  return b.byteOffset === 0 && b.buffer.byteLength === b.length
    ? new Uint8Array(b.buffer, 0, b.length)
    : new Uint8Array(b);
}
