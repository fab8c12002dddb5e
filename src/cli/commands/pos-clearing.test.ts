/**
 * `tapwallet pos --batch FILE` and `tapwallet pos --clear FILE`: offline approvals at a POS whose floor limit
 * allows them go into the clearing batch; the upload to the issuer (here a local issuer file, as `demo
 * quickpass --save` writes) clears them once and leaves only refused records in the file. In process and
 * spawned.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../../../test/cli-run.js";
import { quickPassDemo } from "./demo-quickpass.js";
import { posClearCommand, posCommand } from "./pos.js";

async function savedDemo() {
  const dir = mkdtempSync(join(tmpdir(), "tw-qpclear-"));
  await quickPassDemo({ save: dir }, () => undefined);
  const issuer = join(dir, "issuer.json");
  const funds = () =>
    (JSON.parse(readFileSync(issuer, "utf8")) as { state: { accounts: { available: number }[] } }).state
      .accounts[0]!.available;
  return { dir, phone: join(dir, "phone-se.json"), issuer, batch: join(dir, "batch.json"), funds };
}

const records = (file: string) => (JSON.parse(readFileSync(file, "utf8")) as { records: unknown[] }).records;

describe("tapwallet pos --batch / --clear", () => {
  it("batches offline approvals only, clears them once, and empties the batch", async () => {
    const d = await savedDemo();
    const before = d.funds();
    const offline = await posCommand({ amount: "50.00", phone: d.phone, floorLimit: "100", batch: d.batch });
    expect([offline.result.status, offline.result.decidedBy]).toEqual(["approved", "card"]);
    expect(offline.json.batch).toEqual({ file: d.batch, records: 1 });
    expect(offline.text).toContain("已加入清算批次 / added to the clearing batch");
    await posCommand({ amount: "60.00", phone: d.phone, floorLimit: "100", batch: d.batch });
    // Above the floor limit: online, charged at once, not batched.
    const online = await posCommand({
      amount: "200.00",
      phone: d.phone,
      issuer: d.issuer,
      floorLimit: "100",
      batch: d.batch,
    });
    expect(online.result.decidedBy).toBe("issuer");
    expect(online.json.batch).toBeUndefined();
    expect(records(d.batch)).toHaveLength(2);
    expect(readFileSync(d.batch, "utf8")).not.toContain("6217000000123456"); // tokens only
    expect(d.funds()).toBe(before - 200_00);

    const cleared = await posClearCommand({ clear: d.batch, issuer: d.issuer });
    expect(cleared.results.map((r) => [r.status, r.amount])).toEqual([
      ["cleared", 50_00],
      ["cleared", 60_00],
    ]);
    expect(cleared.text).toContain("已清算 / cleared 2 · 重复 / duplicates 0 · 拒绝 / refused 0");
    expect(records(d.batch)).toHaveLength(0);
    expect(d.funds()).toBe(before - 200_00 - 110_00);
    // An empty batch uploads nothing.
    expect((await posClearCommand({ clear: d.batch, issuer: d.issuer })).results).toEqual([]);
  });

  it("answers a record sent again as a duplicate and keeps a forged one in the file (spawned: exit 0, then 3)", async () => {
    const d = await savedDemo();
    await posCommand({ amount: "30.00", phone: d.phone, floorLimit: "100", batch: d.batch });
    const kept = readFileSync(d.batch, "utf8");
    const first = await runCli(["pos", "--clear", d.batch, "--issuer", d.issuer, "--json"]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ cleared: 1, refused: 0, kept: 0 });
    const funds = d.funds();

    // The same batch again (the POS never heard the answer) and a forged copy of its record.
    const batch = JSON.parse(kept) as { records: { field55: string; stan: number }[] };
    const r = batch.records[0]!;
    const forged = {
      ...r,
      stan: r.stan + 1,
      field55: r.field55.replace(/^9F2608(..)/, (_m, b: string) => `9F2608${b === "00" ? "01" : "00"}`),
    };
    writeFileSync(d.batch, JSON.stringify({ ...batch, records: [r, forged] }));
    const again = await runCli(["pos", "--clear", d.batch, "--issuer", d.issuer]);
    expect(again.code, again.stderr).toBe(3);
    expect(again.stdout).toContain("#1 ¥30.00");
    expect(again.stdout).toContain("已清算过 / already cleared");
    expect(again.stdout).toContain("交易证书（TC）校验失败 / the transaction certificate does not verify");
    expect(records(d.batch)).toEqual([forged]);
    expect(d.funds()).toBe(funds);
  }, 60_000);

  it("refuses a clear without an issuer, with an amount or a card, and a payment without an amount", async () => {
    const d = await savedDemo();
    await expect(posClearCommand({ clear: d.batch })).rejects.toThrow(/--issuer FILE or --issuer-url/);
    await expect(posClearCommand({ clear: d.batch, issuer: d.issuer, amount: "1" })).rejects.toThrow(
      /give no amount or card/,
    );
    await expect(posClearCommand({ clear: d.batch, issuer: d.issuer, phone: d.phone })).rejects.toThrow(
      /give no amount or card/,
    );
    await expect(posCommand({ phone: d.phone })).rejects.toThrow(/--amount/);
    writeFileSync(d.batch, "{not json");
    await expect(posClearCommand({ clear: d.batch, issuer: d.issuer })).rejects.toMatchObject({
      code: "batch_file_invalid",
    });
  });
});
