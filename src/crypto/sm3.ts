/** SM3 hash (GB/T 32905-2016), 32-byte digest, from node:crypto (OpenSSL 3). */
import { createHash } from "node:crypto";
import type { Bytes } from "../core/bytes.js";
import { plain } from "./buffers.js";

export function sm3(data: Bytes): Bytes {
  return plain(createHash("sm3").update(data).digest());
}
