/** Time is injected everywhere so tests are deterministic. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start: Date | string | number = "2026-01-01T00:00:00Z") {
    this.t = new Date(start).getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(at: Date | string | number): void {
    this.t = new Date(at).getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Wall-clock fields in China Standard Time (UTC+8, no DST), as cards and terminals in China record them. */
export function chinaTime(d: Date): {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
} {
  const t = new Date(d.getTime() + 8 * 3600_000);
  return {
    year: t.getUTCFullYear(),
    month: t.getUTCMonth() + 1,
    day: t.getUTCDate(),
    hour: t.getUTCHours(),
    minute: t.getUTCMinutes(),
    second: t.getUTCSeconds(),
  };
}

const p2 = (n: number) => String(n).padStart(2, "0");

/** `YYYYMMDD` and `hhmmss` digit strings in China time (for BCD fields). */
export function chinaDateDigits(d: Date): { date: string; time: string } {
  const c = chinaTime(d);
  return {
    date: `${c.year}${p2(c.month)}${p2(c.day)}`,
    time: `${p2(c.hour)}${p2(c.minute)}${p2(c.second)}`,
  };
}
