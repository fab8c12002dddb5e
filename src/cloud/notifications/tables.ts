/**
 * Events per account, numbered 1, 2, 3… within the account. The number is taken from the account's
 * counter row inside the publishing transaction, which holds that row's lock until commit; so an
 * account's events commit in number order and a reader's cursor (the last number seen) never skips one.
 */
export interface NotificationsTable {
  account_id: string;
  seq: number;
  type: string;
  /** JSON object. */
  payload: string;
  created_at: number;
}

export interface NotificationCountersTable {
  account_id: string;
  last_seq: number;
}

export interface NotificationsTables {
  notifications: NotificationsTable;
  notification_counters: NotificationCountersTable;
}
