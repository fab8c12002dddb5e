/** The registry of transit systems: one layout module per system. */
import type { TransitSystem } from "../catalogue.js";
import { beijingLayout } from "./beijing.js";
import { cityUnionLayout } from "./city-union.js";
import { lingnanPassLayout } from "./lingnan-pass.js";
import { shenzhenTongLayout } from "./shenzhen-tong.js";
import { tUnionLayout } from "./t-union.js";
import type { SystemLayout } from "./types.js";
import { wuhanTongLayout } from "./wuhan-tong.js";

export type { CardIdentity, DecodedIdentity, IdentityFiles, SystemLayout } from "./types.js";

export const LAYOUTS: Readonly<Record<TransitSystem, SystemLayout>> = {
  "t-union": tUnionLayout,
  "city-union": cityUnionLayout,
  "shenzhen-tong": shenzhenTongLayout,
  "lingnan-pass": lingnanPassLayout,
  "wuhan-tong": wuhanTongLayout,
  beijing: beijingLayout,
};
