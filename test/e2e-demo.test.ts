/**
 * `tapwallet demo wallet`: the whole wallet in one run on the embedded default (SQLite). In process (the summary
 * it returns: balances, transactions, the ledger's check; `--data DIR` kept and run again on the same database),
 * and spawned as a user runs it (exit 0 in a few seconds, zh-CN with English beside, `--trace` decoding APDUs,
 * its temporary directory gone afterwards).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { walletDemo } from "../src/cli/commands/demo-wallet.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("tapwallet demo wallet", () => {
  it("runs the whole wallet on SQLite and checks the books; --data keeps the database for a second run", async () => {
    const data = mkdtempSync(join(tmpdir(), "tw-demo-data-"));
    dirs.push(data);
    const lines: string[] = [];
    const s = await walletDemo({ data }, (l) => lines.push(l));
    expect(s.payment).toEqual({ status: "approved", amount: 12_34 });
    expect(s.bankCard).toMatchObject({ status: "active", default: true, payments: [12_34] });
    // ¥50 first top-up + ¥30 top-up − ¥5 metro − ¥2 bus, in the cloud and on the card alike.
    expect([s.transitCard.balance, s.transitCard.onCard]).toEqual([73_00, 73_00]);
    expect(s.transitCard.transactions).toEqual([
      ["purchase", -2_00],
      ["purchase", -5_00],
      ["entry", 0],
      ["load", 30_00],
      ["open", 50_00],
    ]);
    expect(s.cleared).toEqual({ records: 3, amount: 7_00 });
    expect(s.door.granted).toBe(true);
    expect(s.activity).toEqual(
      expect.arrayContaining(["account.created", "bank_card.payment", "transit.topup.completed"]),
    );
    expect(s.ledger).toMatchObject({ ok: true, violations: 0 });
    expect(s.ledger.transfers).toBe(7); // payment 1, opening 2, top-up 2, the two fares 2
    const text = lines.join("\n");
    for (const words of [
      "注册账户 / signed up",
      "添加银行卡 / bank card added",
      "联机批准 / approved online",
      "开交通卡 / transit card opened",
      "地铁进站 / metro entry",
      "地铁出站 / metro exit",
      "上传清分 / uploaded and cleared",
      "门已打开 / door opened",
      "余额 / balance ¥73.00",
      "检查通过 / postings balance, floats equal the cards' balances: check OK",
    ])
      expect(text).toContain(words);
    // Never a full card number: the test card's number is masked wherever it appears.
    expect(text).not.toMatch(/\b6222020000000000018\b/);
    expect(existsSync(join(data, "tapwallet.sqlite"))).toBe(true);

    // The same database again: a new account and phone beside the first; the books still balance.
    const again = await walletDemo({ data }, () => {});
    expect(again.accountId).not.toBe(s.accountId);
    expect(again.ledger).toMatchObject({ ok: true, violations: 0 });
    expect(again.ledger.transfers).toBe(14);
  });

  it("spawned as a user runs it: exit 0 in seconds, --trace decodes the taps, nothing left behind", () => {
    // Its own temporary directory, to see that the demo's DATA_DIR is removed.
    const tmp = mkdtempSync(join(tmpdir(), "tw-demo-tmp-"));
    dirs.push(tmp);
    const started = Date.now();
    const r = spawnSync("npx", ["tsx", "src/cli/main.ts", "demo", "wallet", "--trace"], {
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, TMPDIR: tmp },
    });
    const seconds = (Date.now() - started) / 1000;
    expect(r.status, r.stderr).toBe(0);
    expect(seconds).toBeLessThan(30);
    expect(r.stdout).toContain("== 钱包演示 / wallet demo ==");
    expect(r.stdout).toContain("== 汇总 / summary ==");
    expect(r.stdout).toContain("check OK");
    // The decoded APDUs of the POS and the gates (PPSE, GET PROCESSING OPTIONS, the purse's purchase).
    expect(r.stdout).toContain("APDU 跟踪 / APDU trace");
    expect(r.stdout).toContain("2PAY.SYS.DDF01");
    expect(r.stdout).toContain("GET PROCESSING OPTIONS");
    expect(r.stdout).toContain("门禁读卡器帧 / door reader frames");
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain(`sqlite: ${join(tmp, "tapwallet-demo-")}`);
    expect(readdirSync(tmp).filter((n) => n.startsWith("tapwallet-demo-"))).toEqual([]);
  });
});
