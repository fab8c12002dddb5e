/**
 * The typed database: the union of every module's tables. A new service module adds its tables
 * interface here (one line) and its migrations in its own folder.
 */
import type { AccessTables } from "../access/tables.js";
import type { AccountsTables } from "../accounts/tables.js";
import type { DevicesTables } from "../devices/tables.js";
import type { IssuerTables } from "../issuer/tables.js";
import type { LedgerTables } from "../ledger/tables.js";
import type { NotificationsTables } from "../notifications/tables.js";
import type { RateLimitTables } from "../ratelimit/tables.js";
import type { TransitTables } from "../transit/tables.js";
import type { TsmTables } from "../tsm/tables.js";
import type { TspTables } from "../tsp/tables.js";

export interface Database
  extends
    RateLimitTables,
    NotificationsTables,
    AccountsTables,
    DevicesTables,
    LedgerTables,
    TsmTables,
    AccessTables,
    IssuerTables,
    TspTables,
    TransitTables {}
