/**
 * What one transit system's module provides: how its cards lay out their identity files (for issuance) and
 * how to read them back (for the reader). One module per system, as Metrodroid keeps one per transit system.
 */
import type { Bytes } from "../../core/bytes.js";
import type { Result } from "../../core/result.js";
import type { TransitProduct, TransitSystem } from "../catalogue.js";

/** What the issuer assigns to one card. */
export interface CardIdentity {
  /** The card number exactly as the reader prints it (system-specific format). */
  cardNumber: string;
  /** `YYYY-MM-DD`. */
  validFrom: string;
  validTo: string;
  /** T-Union EF17 card type: 1 normal, 2 student, 3 senior, 4 test, 5 military. */
  cardType?: number;
}

/** The identity files of a card: binary EFs by SFI, and the 8-byte factor its keys are diversified by. */
export interface IdentityFiles {
  binaries: { sfi: number; data: Bytes }[];
  asn: Bytes;
}

/** What the reader decodes from a card's identity files. */
export interface DecodedIdentity {
  cardNumber: string;
  validFrom: string;
  validTo: string;
  city?: { code: string; name: string };
  /** The catalogue product, when the card says which one it is. */
  productId?: string;
  /** The factor the card's keys are diversified by (terminals hand it to the PSAM). */
  asn: Bytes;
}

export interface SystemLayout {
  system: TransitSystem;
  /** A card number for the issuer's `sequence`-th card of this product. */
  cardNumberFor(product: TransitProduct, sequence: number): string;
  /** The identity files of a card (throws `RangeError` on a malformed number: issuer-side, our own data). */
  identityFiles(product: TransitProduct, identity: CardIdentity): IdentityFiles;
  /** Decodes identity files read from a card (untrusted). `files` maps SFI → binary content. */
  decodeIdentity(files: ReadonlyMap<number, Bytes>): Result<DecodedIdentity>;
}
