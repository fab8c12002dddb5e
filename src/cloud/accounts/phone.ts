/** Mainland China mobile numbers: 11 digits starting 13–19, optionally written with +86 and separators. */
import { err, ok, type Result } from "../../core/result.js";

const MAINLAND_MOBILE = /^1[3-9]\d{9}$/;

/** Normalises `+86 138-0013-8000` to `13800138000`; never throws. */
export function parseMainlandMobile(input: string): Result<string> {
  if (input.length > 32) return err("too long");
  let s = input.replace(/[\s-]/g, "");
  if (s.startsWith("+86")) s = s.slice(3);
  else if (s.startsWith("0086")) s = s.slice(4);
  if (!MAINLAND_MOBILE.test(s)) return err("not a mainland China mobile number");
  return ok(s);
}

/** `13800138000` → `138****8000`, the only form a number takes in logs. */
export function maskPhone(phone: string): string {
  return phone.length === 11 ? `${phone.slice(0, 3)}****${phone.slice(7)}` : "***";
}
