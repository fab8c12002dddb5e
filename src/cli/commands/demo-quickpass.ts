/**
 * `tapwallet demo quickpass [--trace] [--save DIR]`: a virtual phone gets a UnionPay token from the local
 * issuer (account, token, personalisation through the SE's card manager under SCP03, default payment card),
 * then pays at a QuickPass POS: ¥12.34 approved online by the issuer (the card checks the ARPC); ¥1,288.00
 * declined by the card (over the CVM limit, nobody verified on the phone); after a fingerprint, ¥1,288.00
 * approved with CDCVM. `--trace` adds each tap's decoded APDUs; `--save DIR` keeps the phone's SE file and
 * the issuer file for `tapwallet pos --phone DIR/phone-se.json --issuer DIR/issuer.json`.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { type Bytes, toHex } from "../../core/bytes.js";
import { ManualClock, systemClock } from "../../core/clock.js";
import { formatCny } from "../../core/money.js";
import { installTokenOnSe } from "../../emv/card/install.js";
import { qpbocPackage } from "../../emv/card/package.js";
import { createLocalIssuer, saveLocalIssuer } from "../../emv/issuer/local.js";
import { defaultTerminalConfig } from "../../emv/terminal/config.js";
import { Pos } from "../../emv/terminal/pos.js";
import { luhnCheckDigit, maskPan } from "../../emv/track2.js";
import { MemoryLink } from "../../nfc/memory.js";
import { decodeTranscript, formatDecoded } from "../../nfc/decode.js";
import { TracingLink } from "../../nfc/trace.js";
import { openSecureElement } from "../../se/persistence.js";
import { SecureElement } from "../../se/secure-element.js";
import { describePayment } from "./pos.js";

export interface QuickPassDemoOptions {
  trace?: boolean;
  save?: string;
}

/** A made-up UnionPay debit card number (Luhn-valid) that the demo bank funds. */
const FUNDING_PAN = (() => {
  const body = "621700000012345678";
  return body + luhnCheckDigit(body);
})();

/** Runs the demo; returns what it printed and the three payments' statuses. */
export async function quickPassDemo(o: QuickPassDemoOptions = {}, out: (line: string) => void = console.log) {
  const random = (n: number): Bytes => new Uint8Array(randomBytes(n));
  const clock = new ManualClock(systemClock.now());
  const issuer = createLocalIssuer(clock, random);
  const phone = { verifiedAt: null as Date | null };
  const seKeys = { enc: random(16), mac: random(16), dek: random(16), version: 0x30 };
  const seOptions = {
    packages: [qpbocPackage],
    clock,
    random,
    keys: seKeys,
    host: { lastUserVerification: () => phone.verifiedAt, locked: () => false },
  };
  if (o.save) mkdirSync(o.save, { recursive: true });
  const se = o.save
    ? openSecureElement(join(o.save, "phone-se.json"), seOptions)
    : SecureElement.manufacture(seOptions);

  out("== 闪付演示 / QuickPass demo ==");
  await issuer.host.openAccount({ fundingPan: FUNDING_PAN, holder: "张三 ZHANG SAN", available: 10_000_00 });
  out(`1. 发卡行开户 / the bank opens the account of card ${maskPan(FUNDING_PAN)}: ${formatCny(10_000_00)}`);
  const token = await issuer.host.issueToken({
    fundingPan: FUNDING_PAN,
    kind: "debit",
    deviceId: toHex(se.serial),
    offline: { balance: 500_00 },
  });
  out(
    `2. 申请令牌 / token issued: ${maskPan(token.token)} (有效期 / expires 20${token.expiry.slice(0, 2)}-${token.expiry.slice(2, 4)}), ` +
      `${token.personalisation.length} 个个人化数据组 / DGIs`,
  );
  installTokenOnSe(se, seKeys, { kind: "debit", personalisation: token.personalisation }, random(8));
  out(
    `3. 经 SCP03 安全通道写入手机安全元件，设为默认卡 / installed on the phone's SE over SCP03, default card`,
  );

  const config = defaultTerminalConfig();
  const pos = new Pos({ config, issuer: issuer.host, clock, random });
  const statuses: string[] = [];
  const tap = async (title: string, amount: number) => {
    out("");
    out(`-- ${title} --`);
    const link = new TracingLink(new MemoryLink(se));
    const r = await pos.pay(link, amount);
    statuses.push(r.status);
    for (const line of describePayment(r, config)) out(line ? `   ${line}` : "");
    if (o.trace) {
      out("   APDU 跟踪 / APDU trace:");
      out(formatDecoded(decodeTranscript(link.transcript().apdus), "zh"));
    }
    clock.advance(60_000);
    return r;
  };

  await tap(`4. 支付 / pay ${formatCny(12_34)} (小额免密 / under the CVM limit)`, 12_34);
  await tap(
    `5. 支付 / pay ${formatCny(1288_00)} (超过 1000 元，未在手机上验证 / over ¥1000, not verified)`,
    1288_00,
  );
  phone.verifiedAt = clock.now();
  out("");
  out("   (用户按下指纹 / the user touches the fingerprint sensor)");
  await tap(`6. 再次支付 / pay ${formatCny(1288_00)} again (指纹验证后 / after a fingerprint)`, 1288_00);

  const account = await issuer.host.account(FUNDING_PAN);
  out("");
  out(`账户余额 / account balance: ${formatCny(account?.available ?? 0)}`);
  if (o.save) {
    saveLocalIssuer(join(o.save, "issuer.json"), issuer);
    out(
      `已保存 / saved: ${join(o.save, "phone-se.json")}, ${join(o.save, "issuer.json")} ` +
        `(含测试密钥 / holds test keys) — tapwallet pos --amount 8.00 --phone ${join(o.save, "phone-se.json")} --issuer ${join(o.save, "issuer.json")}`,
    );
  }
  return { statuses };
}

export function register(demo: Command): void {
  demo
    .command("quickpass")
    .description("银行卡闪付演示 / a phone pays with a UnionPay token at a QuickPass POS")
    .option("--trace", "显示 APDU / show the decoded APDUs of each tap")
    .option("--save <dir>", "保存手机与发卡行文件 / keep the phone's SE file and the issuer file in DIR")
    .action(async (o: QuickPassDemoOptions) => {
      await quickPassDemo(o);
    });
}
