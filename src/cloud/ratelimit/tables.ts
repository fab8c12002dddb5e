/** Fixed-window request counters, shared by every server instance through the database. */
export interface RateLimitWindowsTable {
  /** What is limited and for whom, e.g. `otp-ip:203.0.113.7`. */
  bucket: string;
  /** Start of the window, epoch ms (a multiple of the window length). */
  window_start: number;
  hits: number;
  /** When the row may be deleted, epoch ms. */
  expires_at: number;
}

export interface RateLimitTables {
  rate_limit_windows: RateLimitWindowsTable;
}
