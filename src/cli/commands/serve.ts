/** `tapwallet serve`: the wallet cloud over HTTP (`npm start`). Configuration from the environment (src/cloud/config.ts). */
import type { Command } from "commander";
import type { FastifyInstance } from "fastify";
import { LogOtpSender } from "../../cloud/accounts/otp-sender.js";
import { loadConfig, type CloudConfig } from "../../cloud/config.js";
import { openDatabase } from "../../cloud/db/open.js";
import { buildServer } from "../../cloud/http/server.js";
import { attachSimulator } from "../simulator.js";

export interface RunningCloud {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** Opens the database, migrates, and listens. */
async function startCloud(config: CloudConfig): Promise<RunningCloud> {
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    schema: config.databaseSchema,
    dataDir: config.dataDir,
    sqliteSynchronous: config.sqliteSynchronous,
    poolMax: config.poolMax,
  });
  let app: FastifyInstance;
  try {
    app = await buildServer({
      db,
      otpSender: (log) => new LogOtpSender(log),
      otpPepper: config.otpPepper,
      logger: {
        level: config.logLevel,
        redact: ["req.headers.authorization", 'req.headers["x-tapwallet-signature"]'],
      },
      bodyLimit: config.bodyLimit,
      trustProxy: config.trustProxy,
    });
    // The phone and terminal simulator beside the API (src/sim; off in production unless asked for).
    await attachSimulator(app, {
      dataDir: config.dataDir,
      cloudUrl: `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`,
    });
  } catch (e) {
    await db.close();
    throw e;
  }
  if (!config.production) {
    app.log.warn("开发模式：验证码将打印在日志中 / development mode: one-time codes are printed to this log");
  }
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  app.log.info(
    `tapwallet cloud listening on ${url} (${db.dialect}: ${db.location}) — API docs at ${url}/docs`,
  );
  return {
    app,
    url,
    async close() {
      await app.close();
      await db.close();
    },
  };
}

export function register(program: Command): void {
  program
    .command("serve")
    .description(
      "启动钱包云端服务 / run the wallet cloud (PORT, DATA_DIR or DATABASE_URL; see docs/CLOUD.md)",
    )
    .option("-p, --port <port>", "listen port (overrides PORT)")
    .option("--host <host>", "listen address (overrides HOST)")
    .action(async (opts: { port?: string; host?: string }) => {
      const env = { ...process.env };
      if (opts.port !== undefined) env["PORT"] = opts.port;
      if (opts.host !== undefined) env["HOST"] = opts.host;
      const running = await startCloud(loadConfig(env));
      const stop = () => {
        running.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
}
