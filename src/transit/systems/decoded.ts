/** What the systems' readers share: the validity dates of an identity file, and the identity they decode. */
import type { Bytes } from "../../core/bytes.js";
import { type Result, err, ok } from "../../core/result.js";
import type { TransitProduct } from "../catalogue.js";
import { type CityScheme, cityName } from "../cities.js";
import { isoDate } from "../records.js";
import type { DecodedIdentity } from "./types.js";

/** Valid from and to, each 4 bytes of BCD YYYYMMDD; `what` names the file in the error. */
export function validity(
  from: Bytes,
  to: Bytes,
  what: string,
): Result<{ validFrom: string; validTo: string }> {
  const validFrom = isoDate(from);
  const validTo = isoDate(to);
  if (!validFrom || !validTo) return err(`${what} validity dates are not valid BCD dates`);
  return ok({ validFrom, validTo });
}

/** The identity a reader decodes: the city named when `scheme` knows its code, the product when there is one. */
export function decodedIdentity(
  id: { cardNumber: string; validFrom: string; validTo: string; asn: Bytes },
  city: { scheme: CityScheme; code: string },
  product: TransitProduct | undefined,
): Result<DecodedIdentity> {
  const name = cityName(city.scheme, city.code);
  return ok({
    cardNumber: id.cardNumber,
    validFrom: id.validFrom,
    validTo: id.validTo,
    ...(name ? { city: { code: city.code, name: name.zh } } : {}),
    ...(product ? { productId: product.id } : {}),
    asn: id.asn,
  });
}
