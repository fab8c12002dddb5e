import { fromHex } from "../../core/bytes.js";
import { DEFAULT_ATS } from "../airtime.js";
import type { Activation } from "../link.js";

/**
 * What a replay card answers to activation when its file has none: a random-UID style single-size UID
 * (first byte 08, as phones' secure elements present), ATQA 0004, SAK 20 (ISO 14443-4) and `DEFAULT_ATS`.
 */
export const defaultReplayActivation = (): Activation => ({
  uid: fromHex("08123456"),
  atqa: fromHex("0004"),
  sak: 0x20,
  ats: DEFAULT_ATS.slice(),
});

export const copyActivation = (a: Activation): Activation => ({
  uid: a.uid.slice(),
  atqa: a.atqa.slice(),
  sak: a.sak,
  ...(a.ats ? { ats: a.ats.slice() } : {}),
});
