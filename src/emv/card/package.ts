/**
 * The qPBOC applet as an SE package ("emv.qpboc"): one instance per token card, installed under the
 * UnionPay debit or credit AID. Install parameters give the PPSE label and priority:
 * `{ "label"?: string (≤ 16 ASCII), "priority"?: 1–15 }`; the SE builds the PPSE answer from them.
 */
import { equal } from "../../core/bytes.js";
import type { AppletPackage, ContactlessInfo, Json } from "../../se/applet.js";
import { AID } from "../profile.js";
import { defaultLabel } from "./personalisation.js";
import { QpbocApplet } from "./qpboc-applet.js";

export const QPBOC_PACKAGE_ID = "emv.qpboc";

export interface QpbocInstallParams {
  [key: string]: Json;
  label: string;
  priority: number;
}

function paramsOf(p: Json): Partial<QpbocInstallParams> {
  return p !== null && typeof p === "object" && !Array.isArray(p) ? (p as Partial<QpbocInstallParams>) : {};
}

export const qpbocPackage: AppletPackage = {
  id: QPBOC_PACKAGE_ID,
  create: ({ aid }) => new QpbocApplet(aid),
  contactless: ({ aid, params }): ContactlessInfo => {
    const p = paramsOf(params);
    const label =
      typeof p.label === "string" && /^[\x20-\x7e]{1,16}$/.test(p.label)
        ? p.label
        : defaultLabel(equal(aid, AID.credit) ? "credit" : "debit");
    const priority = Number.isInteger(p.priority) && p.priority! >= 1 && p.priority! <= 15 ? p.priority! : 1;
    return { category: "payment", ppse: [{ label, priority }] };
  },
};
