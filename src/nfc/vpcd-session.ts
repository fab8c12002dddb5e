/**
 * What `--vpcd [HOST:PORT]` does for a command that presents a card (`tapwallet phone present --vpcd`): puts
 * the card into vsmartcard's virtual reader through the bridge — a clear zh/en error at once when vpcd is not
 * there — says what happens (in the reader, which card with which ATR, vpcd gone and back), and keeps it
 * there until the signal aborts (Ctrl-C), riding out pcscd restarts. Nothing here logs APDUs: they carry
 * card numbers.
 */
import type { Bytes } from "../core/bytes.js";
import { spacedHex } from "./pcsc.js";
import { describeAtr } from "./pcsc-session.js";
import { type VpcdBridge, type VpcdBridgeOptions, startVpcdBridge } from "./vpcd.js";
import type { VirtualIcc } from "./vpcd-icc.js";
import { vpcdReaderName } from "./vpcd-protocol.js";

export interface PresentOptions {
  /** Progress, zh-CN and English (a CLI writes it to stderr). */
  say?: (zh: string, en: string) => void;
  /** Ends the presentation (the card leaves the reader). */
  signal?: AbortSignal;
  /** Called once the card is in the reader (tests, or a caller that wants the bridge). */
  onStarted?: (bridge: VpcdBridge) => void;
  bridge?: Omit<VpcdBridgeOptions, "host" | "port" | "trace" | "failIfAbsent">;
}

export interface PresentSummary {
  /** APDUs the card answered, and how many times it was put into the reader. */
  apdus: number;
  insertions: number;
}

/** Presents `icc` on vpcd at `address` (true/undefined: 127.0.0.1:35963) until `signal` aborts. */
export async function presentOnVpcd(
  icc: VirtualIcc,
  address: string | boolean | undefined,
  o: PresentOptions = {},
): Promise<PresentSummary> {
  const say = o.say ?? (() => {});
  const summary: PresentSummary = { apdus: 0, insertions: 0 };
  let lastAtr: Bytes | null = null;
  const bridge = await startVpcdBridge(icc, address, {
    ...o.bridge,
    failIfAbsent: true,
    trace: (e) => {
      if (e.dir === "in" && e.kind === "apdu") summary.apdus++;
      // pcscd asks for the ATR at insertion and at each power-up: report when the card presented changes.
      if (
        e.dir === "out" &&
        e.kind === "atr" &&
        (lastAtr === null || spacedHex(lastAtr) !== spacedHex(e.payload))
      ) {
        lastAtr = e.payload;
        const what = describeAtr(e.payload);
        say(
          `读卡器看到：${what.zh}，ATR ${spacedHex(e.payload)}`,
          `the reader sees: ${what.en}, ATR ${spacedHex(e.payload)}`,
        );
      }
    },
  });
  const where = `${bridge.host}:${bridge.port}`;
  const reader = vpcdReaderName(bridge.port);
  summary.insertions = 1;
  say(
    `已放到虚拟读卡器「${reader}」上（vpcd ${where}）；按 Ctrl-C 拿开`,
    `on the virtual reader "${reader}" (vpcd ${where}); Ctrl-C takes it away`,
  );
  bridge.on("disconnected", () => {
    lastAtr = null;
    say(`vpcd 断开，正在重连（${where}）`, `vpcd went away, reconnecting (${where})`);
  });
  bridge.on("connected", () => {
    summary.insertions++;
    say(`已重新放到「${reader}」上`, `back on "${reader}"`);
  });
  o.onStarted?.(bridge);
  await new Promise<void>((resolve) => {
    if (!o.signal || o.signal.aborted) return resolve();
    o.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  bridge.removeAllListeners("disconnected");
  await bridge.stop();
  say(
    `已从读卡器拿开（应答 ${summary.apdus} 条 APDU）`,
    `taken away from the reader (${summary.apdus} APDUs answered)`,
  );
  return summary;
}
