/**
 * Set-up for the simulator tests (not a test file): the payments cloud on SQLite or PostgreSQL with the phone
 * and terminal simulator (src/sim) attached as `tapwallet serve` attaches it, its data in a fresh temporary
 * directory that closing the cloud removes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestCard } from "../src/cloud/issuer/test-cards.js";
import { attachSimulator } from "../src/cli/simulator.js";
import type { Backend } from "./cloud-harness.js";
import { type PaymentsCloud, makePaymentsCloud } from "./cloud-tsp-harness.js";

export interface SimCloud extends PaymentsCloud {
  /** The simulator's data directory (phones, terminals). */
  dataDir: string;
}

/** The payments cloud on `backend` with the issuer's `cards`, the simulator attached; its data in `tw-<dirTag>-…`. */
export async function startSimCloud(backend: Backend, cards: TestCard[], dirTag: string): Promise<SimCloud> {
  const cloud = await makePaymentsCloud(backend, { cards });
  const dataDir = mkdtempSync(join(tmpdir(), `tw-${dirTag}-`));
  await attachSimulator(cloud.app, {
    dataDir,
    cloudUrl: "http://cloud.test",
    clock: cloud.clock,
    env: { TAPWALLET_ACQUIRER_KEY: cloud.acquirerKey },
  });
  return {
    ...cloud,
    dataDir,
    async close() {
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
