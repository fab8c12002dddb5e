/**
 * The services of one server instance, built over one CloudContext. They hold no state of their own
 * beyond configuration and hooks registered at start: everything else is in the database.
 */
import { accessKeyFromEnv } from "./access/secrets.js";
import { AccessService } from "./access/service.js";
import { TokenVault } from "../emv/issuer/vault.js";
import { AccountService } from "./accounts/service.js";
import type { OtpSender } from "./accounts/otp-sender.js";
import type { CloudContext } from "./context.js";
import { DeviceService } from "./devices/service.js";
import { type IssuerOptions, issuerOptionsFromEnv } from "./issuer/config.js";
import { IssuerService } from "./issuer/service.js";
import { Ledger } from "./ledger/service.js";
import { Notifications } from "./notifications/service.js";
import { RateLimits } from "./ratelimit/service.js";
import { type TransitKeySource, transitKeysFromEnv } from "./transit/keys.js";
import { TransitService } from "./transit/service.js";
import { type TsmSecrets, tsmSecretsFromEnv } from "./tsm/secrets.js";
import { TsmService } from "./tsm/service.js";
import { type TspOptions, bankOtpKey, tspOptionsFromEnv } from "./tsp/config.js";
import { defaultTspPolicy } from "./tsp/policy.js";
import { TspService } from "./tsp/service.js";

export interface Services {
  readonly ctx: CloudContext;
  readonly rateLimits: RateLimits;
  readonly notifications: Notifications;
  readonly accounts: AccountService;
  readonly devices: DeviceService;
  readonly ledger: Ledger;
  readonly tsm: TsmService;
  readonly access: AccessService;
  readonly issuer: IssuerService;
  readonly tsp: TspService;
  readonly transit: TransitService;
}

export interface ServiceOptions {
  otpSender: OtpSender;
  /** Key of the one-time codes' HMAC; every instance sharing a database must use the same one. */
  otpPepper: string;
  /** The TSM's factory master and sealing key (default: from the environment, see tsm/secrets.ts). */
  tsmSecrets?: TsmSecrets;
  /** The key door-card images are sealed under (default: from the environment, see access/secrets.ts). */
  accessKey?: Uint8Array;
  /** The token service: vault key, bank one-time-code sender, limits (default: tsp/config.ts, environment). */
  tsp?: Partial<TspOptions>;
  /** The issuer host's keys and test cards (default: issuer/config.ts, environment). */
  issuer?: Partial<IssuerOptions>;
  /** The transit issuer's master keys (default: transit/keys.ts, environment). */
  transitKeys?: TransitKeySource;
}

export function createServices(ctx: CloudContext, options: ServiceOptions): Services {
  const rateLimits = new RateLimits(ctx);
  const notifications = new Notifications(ctx);
  const accounts = new AccountService(ctx, options.otpSender, rateLimits, notifications, options.otpPepper);
  const devices = new DeviceService(ctx, rateLimits, notifications);
  const ledger = new Ledger(ctx);
  const tsm = new TsmService(ctx, devices, notifications, options.tsmSecrets ?? tsmSecretsFromEnv());
  const access = new AccessService(ctx, tsm, devices, notifications, options.accessKey ?? accessKeyFromEnv());
  // Payments: the token vault (TSP), the issuer host over it, the token service over both and the TSM.
  const tspOptions = {
    ...(options.tsp?.vaultKey && options.tsp.bankOtpSender ? {} : tspOptionsFromEnv()),
    ...options.tsp,
  };
  const vault = new TokenVault(tspOptions.vaultKey!, (n) => ctx.rng.bytes(n));
  const given = options.issuer;
  const issuerOptions = {
    ...(given?.imk3des && given.imkSm4 && given.cvk ? {} : issuerOptionsFromEnv()),
    ...given,
  };
  const issuer = new IssuerService(ctx, ledger, vault, issuerOptions as IssuerOptions);
  const sender = tspOptions.bankOtpSender!;
  const tsp = new TspService(ctx, {
    devices,
    notifications,
    rateLimits,
    issuer,
    tsm,
    vault,
    bankOtp: typeof sender === "function" ? sender(ctx.log) : sender,
    codeKey: bankOtpKey(tspOptions.vaultKey!),
    policy: { ...defaultTspPolicy, ...tspOptions.policy },
  });
  const transit = new TransitService(ctx, {
    ledger,
    devices,
    notifications,
    tsm,
    keys: options.transitKeys ?? transitKeysFromEnv(),
  });
  return { ctx, rateLimits, notifications, accounts, devices, ledger, tsm, access, issuer, tsp, transit };
}

/** Deletes rows that can no longer matter (expired codes, sessions, nonces, rate windows). */
export async function purgeExpired(services: Services): Promise<number> {
  return (
    (await services.accounts.purgeExpired()) +
    (await services.devices.purgeExpiredNonces()) +
    (await services.rateLimits.purgeExpired()) +
    (await services.tsm.purgeSessions()) +
    (await services.tsp.purgeExpired())
  );
}
