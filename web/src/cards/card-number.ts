/** A bank card number as the form shows it: the Luhn check as it is typed, and groups of four. */

/** The Luhn (mod 10) check every UnionPay card number passes; false for anything not 12–19 digits. */
export function luhnValid(digits: string): boolean {
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** `6222020000000000018` → `6222 0200 0000 0000 018`. */
export function groupCardNumber(digits: string): string {
  return digits.replace(/(\d{4})(?=\d)/g, "$1 ");
}

/** What the user typed as MM/YY: `1230` → `12/30`. */
export function formatExpiry(text: string): string {
  const d = text.replace(/\D/g, "").slice(0, 4);
  return d.length > 2 ? `${d.slice(0, 2)}/${d.slice(2)}` : d;
}
