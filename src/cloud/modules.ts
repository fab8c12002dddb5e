/** Every service module of the cloud, in the order their routes register. Append new modules here. */
import { accessModule } from "./access/index.js";
import { accountsModule } from "./accounts/index.js";
import { devicesModule } from "./devices/index.js";
import { issuerModule } from "./issuer/index.js";
import { ledgerModule } from "./ledger/index.js";
import type { CloudModule } from "./module.js";
import { notificationsModule } from "./notifications/index.js";
import { rateLimitModule } from "./ratelimit/index.js";
import { transitModule } from "./transit/index.js";
import { tsmModule } from "./tsm/index.js";
import { tspModule } from "./tsp/index.js";

export const cloudModules: readonly CloudModule[] = [
  rateLimitModule,
  notificationsModule,
  accountsModule,
  devicesModule,
  ledgerModule,
  tsmModule,
  accessModule,
  issuerModule,
  tspModule,
  transitModule,
];
