/** `tapwallet transit products`, `tapwallet read` and `tapwallet demo transit`. */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { transitDemo } from "../src/cli/commands/demo-transit.js";
import { readCommand } from "../src/cli/commands/read.js";
import { productsTable } from "../src/cli/commands/transit.js";
import { ManualClock } from "../src/core/clock.js";
import { isTapwalletError } from "../src/core/errors.js";
import { transcriptToJson } from "../src/nfc/transcript.js";
import { TracingLink } from "../src/nfc/trace.js";
import { seededRandom } from "../src/se/testing/random.js";
import { PRODUCTS } from "../src/transit/catalogue.js";
import { readTransitCard } from "../src/transit/reader/reader.js";
import { TransitSandbox } from "../src/transit/sandbox.js";

const run = promisify(execFile);
const image = (name: string) => join(import.meta.dirname, "fixtures", "transit", `${name}.json`);

describe("tapwallet transit products", () => {
  it("lists every product, open ones first, closed ones with their successor", () => {
    const table = productsTable();
    const lines = table.split("\n");
    expect(lines).toHaveLength(PRODUCTS.length + 2);
    for (const p of PRODUCTS) expect(table).toContain(p.name.zh);
    const closed = lines.findIndex((l) => l.includes("停开"));
    expect(lines.slice(2, closed).every((l) => l.includes("可开卡"))).toBe(true);
    expect(lines.find((l) => l.includes("北京市政交通一卡通"))).toContain("改开京津冀互联互通卡");
    expect(lines.find((l) => l.includes("杭州通"))).toContain("bank card");
  });
});

describe("tapwallet read", () => {
  it("--image --json prints exactly the documented shape", async () => {
    const out = await readCommand({ image: image("wuhan-tong"), json: true });
    expect(out).toBe(
      '{"system":"wuhan-tong","product":"wuhan-tong","cardNumber":"0123456789","balance":2000,' +
        '"validFrom":"2020-06-01","validTo":"2030-12-31","city":{"code":"4300","name":"武汉"},' +
        '"transactions":[{"time":"2025-03-07T17:30:00","amount":-150,"type":"purchase","terminal":"000043000077"}]}',
    );
  });

  it("--image prints the card in zh-CN and English, trips included", async () => {
    const out = await readCommand({ image: image("t-union") });
    expect(out).toContain("卡号 / card number:   3105170000012345678");
    expect(out).toContain("余额 / balance:       ¥27.55");
    expect(out).toContain("地铁出站 / metro exit");
  });

  it("--replay reads a recorded transcript", async () => {
    const sb = new TransitSandbox({
      clock: new ManualClock("2026-03-02T00:30:00Z"),
      random: seededRandom(9),
    });
    const { aid, card } = sb.addCard("shenzhen-tong");
    expect((await sb.topUp(aid, 888)).ok).toBe(true);
    const link = new TracingLink(sb.field());
    await link.fieldOn();
    expect((await readTransitCard(link)).ok).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "tapwallet-read-"));
    const file = join(dir, "szt.json");
    writeFileSync(file, JSON.stringify(transcriptToJson(link.transcript())));
    const json = JSON.parse(await readCommand({ replay: file, json: true })) as Record<string, unknown>;
    expect(json).toMatchObject({
      system: "shenzhen-tong",
      cardNumber: card.identity.cardNumber,
      balance: 888,
    });
  });

  it("explains what is wrong: no file, both options, a file that is not an image, no transit card", async () => {
    const code = async (o: Parameters<typeof readCommand>[0]) => {
      try {
        await readCommand(o);
        return "none";
      } catch (e) {
        return isTapwalletError(e) ? e.code : "not a TapwalletError";
      }
    };
    expect(await code({})).toBe("read_usage");
    expect(await code({ image: image("t-union"), replay: image("t-union") })).toBe("read_usage");
    expect(await code({ image: "/nonexistent.json" })).toBe("read_unreadable");
    const dir = mkdtempSync(join(tmpdir(), "tapwallet-read-"));
    writeFileSync(join(dir, "bad.json"), '{"applications": 3}');
    expect(await code({ image: join(dir, "bad.json") })).toBe("read_bad_image");
    writeFileSync(
      join(dir, "bank.json"),
      JSON.stringify({ applications: [{ aid: "A000000333010101", fci: "6F00", files: {} }] }),
    );
    expect(await code({ image: join(dir, "bank.json") })).toBe("read_no_transit_card");
  });

  it("runs as a command (spawned) and exits non-zero with a bilingual message on a bad file", async () => {
    const cli = ["tsx", "src/cli/main.ts"];
    const ok = await run("npx", [...cli, "read", "--image", image("beijing"), "--json"]);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      system: "beijing",
      cardNumber: "1000123456789012",
      balance: 6000,
    });
    const bad = await run("npx", [...cli, "read", "--image", "/nonexistent.json"]).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect("code" in bad && bad.code).toBe(2);
    expect("stderr" in bad && bad.stderr).toContain("无法读取文件");
  }, 60_000);
});

describe("tapwallet demo transit", () => {
  it("opens two cards, tops up, rides the metro and a bus, and reads the balances back", async () => {
    const lines: string[] = [];
    const r = await transitDemo({}, (l) => lines.push(l));
    expect(r.outcomes.map((o) => o.ok && [o.kind, o.amount])).toEqual([
      ["metro-entry", 0],
      ["metro-exit", 500],
      ["bus", 200],
    ]);
    expect(r.balances).toEqual([4500, 1800]);
    const text = lines.join("\n");
    expect(text).toContain("京津冀互联互通卡");
    expect(text).toContain("上海公共交通卡");
    expect(text).toContain("地铁进站 / metro entry");
  });

  it("runs as the README's first command (spawned)", async () => {
    const { stdout } = await run("npx", ["tsx", "src/cli/main.ts", "demo", "transit"]);
    expect(stdout).toContain("== 交通卡演示 / transit demo ==");
    expect(stdout).toContain("余额 / balance:       ¥45.00");
    expect(stdout).toContain("余额 / balance:       ¥18.00");
  }, 60_000);

  it("--trace shows each tap's decoded APDUs", async () => {
    const lines: string[] = [];
    await transitDemo({ trace: true }, (l) => lines.push(l));
    const text = lines.join("\n");
    expect(text).toContain("复合消费初始化 INITIALIZE FOR CAPP PURCHASE");
    expect(text).toContain("UPDATE CAPP DATA CACHE");
  });
});
