/**
 * Transit cards on the phone's SE: the e-purse applet package, the phone's rules (at most one T-Union card;
 * city cards side by side; one express transit card), and installing an issued card through the card
 * manager's SCP03 channel as a TSM script does.
 *
 * The at-most-one-T-Union rule holds twice over: `canAddTransitCard` (which the cloud reuses) refuses before
 * anything is sent, and every T-Union instance answers the public A000000632010105, so the SE's contactless
 * registry refuses to activate a second one (6330).
 */
import { type Bytes, fromHex, toHex } from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";
import { type Result, err, ok } from "../core/result.js";
import type { AppletPackage, ContactlessInfo, Json } from "../se/applet.js";
import { registryError } from "../se/crs.js";
import type { Scp03Keys } from "../se/scp03.js";
import { installCommands, runSecureScript } from "../se/scp03-host.js";
import type { SecureElement } from "../se/secure-element.js";
import { EpurseApplet } from "./card/epurse-applet.js";
import { profileFor } from "./card/profiles.js";
import {
  PRODUCTS,
  T_UNION_EC_AID,
  T_UNION_EP_AID,
  TRANSIT_SYSTEMS,
  type TransitProduct,
  type TransitSystem,
  checkCanOpen,
  getProduct,
  isTUnionProduct,
} from "./catalogue.js";
import type { IssuedCard } from "./issuer.js";
import type { Bilingual } from "../core/text.js";

export const EPURSE_PACKAGE_ID = "transit.epurse";

interface EpurseParams {
  [k: string]: Json;
  system: TransitSystem;
  product: string;
}

function paramsOf(params: Json): EpurseParams | null {
  if (typeof params !== "object" || params === null || Array.isArray(params)) return null;
  const system = params["system"];
  const product = params["product"];
  if (typeof system !== "string" || !(TRANSIT_SYSTEMS as readonly string[]).includes(system)) return null;
  if (typeof product !== "string" || !getProduct(product)) return null;
  return { system: system as TransitSystem, product };
}

/** The e-purse applet package (install parameters: `{ system, product }`). */
export const epursePackage: AppletPackage = {
  id: EPURSE_PACKAGE_ID,
  create({ params }) {
    const p = paramsOf(params);
    if (!p)
      throw new RangeError(
        "transit.epurse needs install parameters { system, product } naming a catalogue product",
      );
    return new EpurseApplet(profileFor(p.system));
  },
  contactless({ params }): ContactlessInfo | undefined {
    const p = paramsOf(params);
    const product = p ? getProduct(p.product) : undefined;
    if (!product) return undefined;
    return {
      category: "transit",
      selectionAids: product.aids.selection.map(fromHex),
      // PPSE lists the T-Union EC (MOT_T_CASH) and EP (MOT_T_EP) under their public AIDs, as real cards do
      // (transit.md §4); city cards have no PPSE entry.
      ...(isTUnionProduct(product)
        ? {
            ppse: [
              { label: "MOT_T_CASH", priority: 1, aid: fromHex(T_UNION_EC_AID) },
              { label: "MOT_T_EP", priority: 2, aid: fromHex(T_UNION_EP_AID) },
            ],
          }
        : {}),
    };
  },
};

/** The product of an instance on the SE, from its AID. */
export function productOfInstance(aid: Bytes): TransitProduct | undefined {
  const hex = toHex(aid);
  return PRODUCTS.find((p) => p.aids.instance === hex);
}

export interface AddRefusal {
  code: "unknown_product" | "product_closed" | "t_union_limit" | "already_present";
  message: Bilingual;
  /** A closed product's replacement. */
  successor?: TransitProduct;
  /** The card already on the device that blocks this one. */
  conflicting?: TransitProduct;
}

/**
 * Whether a card of `productId` may be added to a device that already holds `existing` (product ids):
 * the product must be open for new cards, the device may hold one T-Union card, and one card per product.
 */
export function canAddTransitCard(
  existing: readonly string[],
  productId: string,
  /** An existing card moving in (移卡): closed products are still serviced. */
  transfer = false,
): Result<TransitProduct, AddRefusal> {
  const open = checkCanOpen(productId);
  if (!open.ok && !(transfer && getProduct(productId))) return err({ ...open.error });
  const product = open.ok ? open.value : getProduct(productId)!;
  if (existing.includes(productId))
    return err({
      code: "already_present",
      message: { zh: `这台设备上已有${product.name.zh}`, en: `this device already holds ${product.name.en}` },
      conflicting: product,
    });
  if (isTUnionProduct(product)) {
    const tu = existing.map(getProduct).find((p) => p && isTUnionProduct(p));
    if (tu)
      return err({
        code: "t_union_limit",
        message: {
          zh: `每台设备仅能存在一张交通联合卡，已有${tu.name.zh}`,
          en: `a device holds at most one China T-Union card and already has ${tu.name.en}`,
        },
        conflicting: tu,
      });
  }
  return ok(product);
}

/** The transit cards installed on an SE (from the registry, by instance AID). */
export function transitCardsOn(
  se: SecureElement,
): { product: TransitProduct; aid: Bytes; expressTransit: boolean; active: boolean }[] {
  const out = [];
  for (const e of se.registry.list()) {
    if (e.packageId !== EPURSE_PACKAGE_ID) continue;
    const product = productOfInstance(e.aid);
    if (product)
      out.push({ product, aid: e.aid, expressTransit: e.expressTransit, active: e.state === "activated" });
  }
  return out;
}

export interface InstallOptions {
  /** The SE's card manager keys (the TSM holds them). */
  keys: Scp03Keys;
  /** 8 bytes for INITIALIZE UPDATE; fresh for every session. */
  hostChallenge: Bytes;
  /** Activate for the field afterwards (default true). */
  activate?: boolean;
}

/**
 * Installs and personalises an issued card on the SE through SCP03, then activates it. Refused with a
 * `TapwalletError` (code `t_union_limit`, `product_closed`, `already_present`, or the SE's step and status
 * word) before anything lands when the phone's rules forbid it.
 */
export function installTransitCard(se: SecureElement, card: IssuedCard, o: InstallOptions): Bytes {
  const existing = transitCardsOn(se).map((c) => c.product.id);
  const allowed = canAddTransitCard(existing, card.product.id, card.transfer ?? false);
  if (!allowed.ok)
    throw new TapwalletError(allowed.error.code, allowed.error.message.zh, allowed.error.message.en, {
      productId: card.product.id,
      ...(allowed.error.successor ? { successorId: allowed.error.successor.id } : {}),
      ...(allowed.error.conflicting ? { conflictingId: allowed.error.conflicting.id } : {}),
    });
  const aid = fromHex(card.product.aids.instance);
  const script = installCommands({
    packageId: EPURSE_PACKAGE_ID,
    aid,
    params: { system: card.product.system, product: card.product.id },
    personalization: card.personalisation.dgis,
  });
  const r = runSecureScript(se.host.transmit, o.keys, script, { hostChallenge: o.hostChallenge });
  se.host.reset();
  if (!r.ok)
    throw new TapwalletError(
      "se_install_failed",
      `安装${card.product.name.zh}失败：${r.error.step}（${r.error.reason}）`,
      `installing ${card.product.name.en} failed at ${r.error.step} (${r.error.reason})`,
      { sw: r.error.sw },
    );
  if (o.activate ?? true) {
    const a = se.registry.activate(aid);
    if (!a.ok) throw registryError(a.error, aid);
  }
  return aid;
}

/**
 * Makes a transit card the express card (answers the field while the phone is locked). The previous express
 * card is deactivated first, so the two never answer the same reader together.
 */
export function setExpressTransitCard(se: SecureElement, aid: Bytes): void {
  const previous = se.registry.expressTransit();
  if (previous && toHex(previous) !== toHex(aid)) {
    const d = se.registry.deactivate(previous);
    if (!d.ok) throw registryError(d.error, previous);
  }
  const r = se.registry.setExpressTransit(aid);
  if (!r.ok) throw registryError(r.error, aid);
}
