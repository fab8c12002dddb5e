/**
 * `tapwallet demo transit [--trace]`: a virtual phone opens a China T-Union card (京津冀互联互通卡) and a city
 * card (上海公共交通卡) at the local issuers, installs them on its SE over SCP03, tops both up (MAC1 checked,
 * MAC2 answered, TAC verified), rides the metro — entry, then exit charged by distance — with the T-Union card
 * as the express card of a locked phone, switches the express card and takes a bus with the city card, and
 * prints the cards' trips and balances. `--trace` adds each tap's decoded APDUs.
 */
import type { Command } from "commander";
import { type Clock, ManualClock, systemClock } from "../../core/clock.js";
import { formatCny } from "../../core/money.js";
import type { Link } from "../../nfc/link.js";
import { decodeTranscript, formatDecoded } from "../../nfc/decode.js";
import { TracingLink } from "../../nfc/trace.js";
import type { TransitSystem } from "../../transit/catalogue.js";
import { formatReading } from "../../transit/reader/format.js";
import { readTransitCard } from "../../transit/reader/reader.js";
import { TransitSandbox, hostLink } from "../../transit/sandbox.js";
import { EXAMPLE_FARES, station } from "../../transit/terminal/fares.js";
import type { TapOutcome } from "../../transit/terminal/gate.js";

export interface TransitDemoOptions {
  trace?: boolean;
}

/** Today at 08:55 China time: the demo's morning. */
function morning(now: Date): Date {
  const day = new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 10);
  return new Date(`${day}T08:55:00+08:00`);
}

const hhmm = (clock: Clock) => new Date(clock.now().getTime() + 8 * 3600_000).toISOString().slice(11, 16);

/** Runs the demo; returns the outcomes of the three taps and the final balances (fen). */
export async function transitDemo(o: TransitDemoOptions = {}, out: (line: string) => void = console.log) {
  const clock = new ManualClock(morning(systemClock.now()));
  let locked = false;
  const sb = new TransitSandbox({ clock, host: { locked: () => locked, lastUserVerification: () => null } });

  out("== 交通卡演示 / transit demo ==");
  const tu = sb.addCard("tu-jingjinji");
  const sh = sb.addCard("shanghai");
  out(`1. 开卡并写入手机安全元件 (SCP03) / cards opened and installed on the phone's SE over SCP03:`);
  out(`   ${tu.card.product.name.zh} / ${tu.card.product.name.en}  No. ${tu.card.identity.cardNumber}`);
  out(`   ${sh.card.product.name.zh} / ${sh.card.product.name.en}  No. ${sh.card.identity.cardNumber}`);

  for (const [c, amount] of [
    [tu, 50_00],
    [sh, 20_00],
  ] as const) {
    const r = await sb.topUp(c.aid, amount);
    if (!r.ok) throw new Error(`top-up failed: ${JSON.stringify(r.error)}`);
    out(
      `2. 充值 / top-up ${formatCny(amount)} → ${c.card.product.name.zh}: 发卡方验 MAC1、回 MAC2、验 TAC / ` +
        `issuer checked MAC1, answered MAC2, verified TAC — 余额 / balance ${formatCny(r.value.balanceAfter)}`,
    );
  }

  sb.setExpress(tu.aid);
  locked = true;
  out(`3. ${tu.card.product.name.zh} 设为快捷交通卡，手机锁屏 / set as express transit card, phone locked`);

  const outcomes: TapOutcome[] = [];
  const tap = async (title: string, gate: { tap(link: Link): Promise<TapOutcome> }) => {
    const link = new TracingLink(sb.field());
    await link.fieldOn();
    const r = await gate.tap(link);
    outcomes.push(r);
    out(`${title} ${hhmm(clock)}: ${describeTap(r)}`);
    if (o.trace) {
      out("   APDU 跟踪 / APDU trace:");
      out(formatDecoded(decodeTranscript(link.transcript().apdus), "zh"));
    }
  };

  const from = station(EXAMPLE_FARES, "0101")!;
  const to = station(EXAMPLE_FARES, "0112")!;
  await tap(
    `4. 进站 / metro entry ${from.name.zh} ${from.name.en}`,
    sb.metroGate({ station: from.code, direction: "entry" }),
  );
  clock.advance(25 * 60_000);
  await tap(
    `5. 出站 / metro exit ${to.name.zh} ${to.name.en} (${(to.km - from.km).toFixed(1)} km)`,
    sb.metroGate({ station: to.code, direction: "exit" }),
  );

  sb.setExpress(sh.aid);
  out(
    `6. 快捷交通卡改为 ${sh.card.product.name.zh}（原卡停用） / express card switched to ${sh.card.product.name.en} (the previous one deactivated)`,
  );
  clock.advance(40 * 60_000);
  await tap(
    "7. 公交 / bus 71 路 route 71",
    sb.busValidator({ line: "0071", fare: 2_00, accepts: ["city-union"] }),
  );

  out("");
  out("== 钱包读卡 / the wallet reads its cards ==");
  const balances: number[] = [];
  for (const system of ["t-union", "city-union"] as TransitSystem[]) {
    const link = hostLink(sb.se);
    await link.fieldOn();
    const r = await readTransitCard(link, [system]);
    await link.fieldOff();
    if (!r.ok) throw new Error(`reading failed: ${JSON.stringify(r.error)}`);
    balances.push(r.value.balance);
    out("");
    for (const line of formatReading(r.value)) out(line);
  }
  return { outcomes, balances };
}

function describeTap(r: TapOutcome): string {
  if (!r.ok) return `闸机拒绝 / refused: ${r.message.zh} / ${r.message.en}`;
  const what =
    r.kind === "metro-entry"
      ? "闸门打开 / gate opens"
      : r.kind === "metro-exit"
        ? "扣费 / charged"
        : "扣费 / charged";
  return `${what} ${formatCny(r.amount)}, 余额 / balance ${formatCny(r.balanceAfter)} (TAC ${r.record.tac})`;
}

export function register(demo: Command): void {
  demo
    .command("transit")
    .description("交通卡演示：开卡、充值、地铁进出站、公交 / transit demo: open cards, top up, metro, bus")
    .option("--trace", "显示每次刷卡的 APDU / show each tap's decoded APDUs")
    .action(async (o: TransitDemoOptions) => {
      await transitDemo(o);
    });
}
