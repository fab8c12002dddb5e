/**
 * `npm run bench -- emv`: QuickPass in-process.
 * - An online qPBOC transaction between our POS (entry point + C-7 kernel) and a phone's SE holding a token
 *   (PPSE, SELECT, GPO), p50/p99, against the ISO 14443-A air-time lower bound of the same APDUs at
 *   106 kbit/s; the same with the issuer's authorisation and the card's ARPC check; an fDDA offline
 *   transaction (with its READ RECORDs and the RSA signature in the SE) against its own bound.
 * - On the issuer side, ARQC verifications per second (key derivation from the IMK, session key, MAC) and
 *   whole authorisations per second (store transaction, ATC window, limits, ARPC), beside raw 3DES block
 *   operations per second in the same run.
 */
import { performance } from "node:perf_hooks";
import { type Bytes, fromHex, readUintBE } from "../src/core/bytes.js";
import { ManualClock } from "../src/core/clock.js";
import { parseTlv } from "../src/core/tlv.js";
import { ecbEncrypt } from "../src/crypto/index.js";
import type { AuthorisationRequest } from "../src/emv/authorisation.js";
import { installTokenOnSe } from "../src/emv/card/install.js";
import { qpbocPackage } from "../src/emv/card/package.js";
import { acDataOfTags, cardMasterKey, cryptogramMatches, sessionKey } from "../src/emv/cryptogram.js";
import { decodeIad } from "../src/emv/iad.js";
import { createLocalIssuer } from "../src/emv/issuer/local.js";
import { AID } from "../src/emv/profile.js";
import { defaultTerminalConfig, unionPayAid } from "../src/emv/terminal/config.js";
import { startTransaction } from "../src/emv/terminal/entry-point.js";
import { Pos } from "../src/emv/terminal/pos.js";
import { airTime } from "../src/nfc/airtime.js";
import { MemoryLink } from "../src/nfc/memory.js";
import { TracingLink } from "../src/nfc/trace.js";
import { SecureElement } from "../src/se/secure-element.js";
import { seededRandom } from "../src/se/testing/random.js";
import type { TapFigure } from "./report.js";
import { type Timing, fmt, table, throughput, timeIt } from "./stats.js";

const FUNDING_PAN = "6217000000123456786";

async function world(floorLimit: number) {
  const clock = new ManualClock("2026-03-01T04:00:00Z");
  const random = seededRandom(42);
  const issuer = createLocalIssuer(clock, random);
  await issuer.host.openAccount({ fundingPan: FUNDING_PAN, holder: "bench", available: 1e12 });
  await issuer.host.issueToken({ fundingPan: FUNDING_PAN, kind: "debit", offline: { balance: 1e11 } });
  const token = await issuer.host.issueToken({
    fundingPan: FUNDING_PAN,
    kind: "debit",
    offline: { balance: 1e11 },
  });
  const keys = { enc: random(16), mac: random(16), dek: random(16), version: 0x30 };
  const se = SecureElement.manufacture({ packages: [qpbocPackage], clock, random, keys });
  installTokenOnSe(se, keys, { kind: "debit", personalisation: token.personalisation }, random(8));
  // High limits on the token so tens of thousands of payments pass the velocity checks.
  await issuer.store.transaction(async (tx) => {
    const t = (await tx.token(token.token))!;
    await tx.saveToken({
      ...t,
      limits: { perTransaction: 1e9, dailyAmount: 1e12, dailyCount: 1e9, noCvm: 1e9 },
    });
  });
  const config = defaultTerminalConfig({ aids: [unionPayAid(AID.debit, { floorLimit })] });
  return { clock, random, issuer, se, config, link: new MemoryLink(se), token };
}

export async function run(): Promise<TapFigure[]> {
  // ---- POS ⇄ phone ----------------------------------------------------------------------------------------
  const online = await world(0);
  const env = { clock: online.clock, random: online.random };
  const kernelOnly = async () => {
    await online.link.fieldOn();
    await startTransaction(online.link, online.config, { amount: 12_34, sequenceCounter: 1 }, env);
    await online.link.fieldOff();
  };
  const pos = new Pos({
    config: online.config,
    issuer: online.issuer.host,
    clock: online.clock,
    random: online.random,
  });
  const fullOnline = () => pos.pay(online.link, 12_34);

  const offline = await world(300_00);
  const offlinePos = new Pos({ config: offline.config, clock: offline.clock, random: offline.random });
  const fullOffline = () => offlinePos.pay(offline.link, 1_00);

  const transcriptOf = async (link: MemoryLink, f: (l: TracingLink) => Promise<unknown>) => {
    const t = new TracingLink(link);
    await f(t);
    return t.transcript().apdus;
  };
  const onlineApdus = await transcriptOf(online.link, async (t) => {
    await t.fieldOn();
    await startTransaction(t, online.config, { amount: 12_34, sequenceCounter: 1 }, env);
    await t.fieldOff();
  });
  const onlineWithArpc = await transcriptOf(online.link, (t) => pos.pay(t, 12_34));
  const offlineApdus = await transcriptOf(offline.link, (t) => offlinePos.pay(t, 1_00));
  const bound = (apdus: typeof onlineApdus) => airTime(apdus, { bitRate: 106 }).totalUs;
  const bytes = (apdus: typeof onlineApdus) =>
    apdus.reduce((n, e) => n + e.command.length + e.response.length, 0);

  const k = await timeIt(kernelOnly, 3000);
  const f = await timeIt(fullOnline, 3000);
  const o = await timeIt(fullOffline, 1000);
  const row = (name: string, t: Timing, apdus: typeof onlineApdus) => [
    name,
    apdus.length,
    bytes(apdus),
    fmt(t.p50),
    fmt(t.p99),
    fmt(bound(apdus)),
    fmt(t.p50 / bound(apdus), 3),
  ];
  console.log("QuickPass transactions in-process (POS ⇄ phone SE), µs; air-time lower bound at 106 kbit/s:");
  table(
    ["transaction", "APDUs", "bytes", "p50 µs", "p99 µs", "air 106k µs", "p50 / air"],
    [
      row("online: PPSE, SELECT, GPO", k, onlineApdus),
      row("online + issuer + ARPC", f, onlineWithArpc),
      row("offline fDDA v01", o, offlineApdus),
    ],
  );

  const figure = (
    tap: TapFigure["tap"],
    key: string,
    label: string,
    t: Timing,
    apdus: typeof onlineApdus,
  ): TapFigure => ({
    kind: "tap",
    tap,
    key,
    label,
    transport: "memory",
    n: t.n,
    p50Us: t.p50,
    p99Us: t.p99,
    exchanges: apdus.length,
    unit: "APDUs",
    air106Us: bound(apdus),
    air848Us: airTime(apdus, { bitRate: 848 }).totalUs,
  });
  const figures = [
    figure("qpboc-online", "kernel", "POS to online request (PPSE, SELECT, GPO)", k, onlineApdus),
    figure("qpboc-online", "issuer-arpc", "payment with local issuer + ARPC", f, onlineWithArpc),
    figure("qpboc-fdda", "fdda", "offline approval, fDDA v01 + READ RECORDs", o, offlineApdus),
  ];

  // ---- issuer ------------------------------------------------------------------------------------------------
  // Genuine requests from the phone, each with its own ATC, captured as the POS sends them.
  const captured: AuthorisationRequest[] = [];
  const fresh = await world(0);
  const capturing = new Pos({
    config: fresh.config,
    clock: fresh.clock,
    random: fresh.random,
    issuer: {
      authorise: async (req) => {
        captured.push(req);
        return { responseCode: "05", approved: false, reason: "captured", message: { zh: "", en: "" } };
      },
    },
  });
  for (let n = 0; n < 4000; n++) await capturing.pay(fresh.link, 1_00);

  const imk = fromHex(fresh.issuer.toFile().keys["3des"]);
  const parsed = parseTlv(fromHex(captured[0]!.field55));
  if (!parsed.ok) throw new Error(parsed.error);
  const f55 = new Map<number, Bytes>(parsed.value.map((n) => [n.tag, n.value]));
  const iad = decodeIad(f55.get(0x9f10)!);
  if (!iad.ok) throw new Error(iad.error);
  const data = acDataOfTags(f55, iad.value.cvr)!;
  const ac = f55.get(0x9f26)!;
  const atc = readUintBE(f55.get(0x9f36)!);
  const verify = () => {
    const udk = cardMasterKey(imk, fresh.token.token, "00", "3des");
    if (!cryptogramMatches(sessionKey(udk, atc, "3des"), data, ac, "3des"))
      throw new Error("ARQC did not verify");
  };
  const block = fromHex("1122334455667788");
  const k16 = fromHex("0123456789ABCDEFFEDCBA9876543210");
  const tdes = throughput(() => ecbEncrypt("3des", k16, block), 500, 20);
  const arqcs = throughput(verify, 500, 20);
  let i = 0;
  const start = performance.now();
  let approved = 0;
  for (; i < captured.length; i++) if ((await fresh.issuer.host.authorise(captured[i]!)).approved) approved++;
  const authPerSecond = (i * 1000) / (performance.now() - start);
  if (approved !== captured.length)
    throw new Error(`only ${approved} of ${captured.length} authorisations approved`);
  console.log("\nIssuer side, same run:");
  table(
    ["operation", "per second", "3DES blocks each"],
    [
      ["raw 3DES block (ECB, 2-key)", fmt(tdes, 0), "1"],
      ["ARQC verification (UDK + SK + MAC)", fmt(arqcs, 0), "5 (+ 4 single-DES), in 4 cipher calls"],
      [`authorisation (${captured.length} genuine requests)`, fmt(authPerSecond, 0), "+ ARPC, store, vault"],
    ],
  );
  return figures;
}
