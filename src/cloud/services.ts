/**
 * The services of one server instance, built over one CloudContext. They hold no state of their own
 * beyond configuration and hooks registered at start: everything else is in the database.
 */
import { accessKeyFromEnv } from "./access/secrets.js";
import { AccessService } from "./access/service.js";
import { AccountService } from "./accounts/service.js";
import type { OtpSender } from "./accounts/otp-sender.js";
import type { CloudContext } from "./context.js";
import { DeviceService } from "./devices/service.js";
import { Ledger } from "./ledger/service.js";
import { Notifications } from "./notifications/service.js";
import { RateLimits } from "./ratelimit/service.js";
import { type TsmSecrets, tsmSecretsFromEnv } from "./tsm/secrets.js";
import { TsmService } from "./tsm/service.js";

export interface Services {
  readonly ctx: CloudContext;
  readonly rateLimits: RateLimits;
  readonly notifications: Notifications;
  readonly accounts: AccountService;
  readonly devices: DeviceService;
  readonly ledger: Ledger;
  readonly tsm: TsmService;
  readonly access: AccessService;
}

export interface ServiceOptions {
  otpSender: OtpSender;
  /** Key of the one-time codes' HMAC; every instance sharing a database must use the same one. */
  otpPepper: string;
  /** The TSM's factory master and sealing key (default: from the environment, see tsm/secrets.ts). */
  tsmSecrets?: TsmSecrets;
  /** The key door-card images are sealed under (default: from the environment, see access/secrets.ts). */
  accessKey?: Uint8Array;
}

export function createServices(ctx: CloudContext, options: ServiceOptions): Services {
  const rateLimits = new RateLimits(ctx);
  const notifications = new Notifications(ctx);
  const accounts = new AccountService(ctx, options.otpSender, rateLimits, notifications, options.otpPepper);
  const devices = new DeviceService(ctx, rateLimits, notifications);
  const ledger = new Ledger(ctx);
  const tsm = new TsmService(ctx, devices, notifications, options.tsmSecrets ?? tsmSecretsFromEnv());
  const access = new AccessService(ctx, tsm, devices, notifications, options.accessKey ?? accessKeyFromEnv());
  return { ctx, rateLimits, notifications, accounts, devices, ledger, tsm, access };
}

/** Deletes rows that can no longer matter (expired codes, sessions, nonces, rate windows). */
export async function purgeExpired(services: Services): Promise<number> {
  return (
    (await services.accounts.purgeExpired()) +
    (await services.devices.purgeExpiredNonces()) +
    (await services.rateLimits.purgeExpired()) +
    (await services.tsm.purgeSessions())
  );
}
