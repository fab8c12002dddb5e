/**
 * Every fuzz target of `npm run fuzz` and test/fuzz-short.test.ts: the applets (the SE itself with its card
 * manager and CRS, the transit e-purse per profile, qPBOC, the door-card applet, the MIFARE frame handler), the
 * parsers (APDU, BER-TLV, DOL, replay transcripts and card images, door-card dump formats and key dictionaries,
 * trace files and the decoder, MIFARE frame traces, transit blacklist pages, vpcd framing, PC/SC ATR and ATS,
 * the TSM sync messages on both sides), the terminals against hostile cards (the POS kernel, the transit
 * reader) and the issuer's offline clearing against damaged records.
 *
 * Generators are the ones the CI property tests use (src/<area>/testing/), so a long run explores the same
 * space further; where a test's generator was a one-liner it is written here the same way. Each target checks
 * what its CI test checks: no exception, a status word on every answer, and the area's invariant.
 */
import fc from "fast-check";
import { encodeCommand, encodeResponse, parseCommand, parseResponse } from "../../src/core/apdu.js";
import { type Bytes, equal, fromHex, toHex } from "../../src/core/bytes.js";
import { ManualClock } from "../../src/core/clock.js";
import { buildDolData, dolDataLength, parseDol } from "../../src/core/dol.js";
import { encodeTlvs, parseTlv } from "../../src/core/tlv.js";
import { DEV_SE_MASTER_KEY, diversifySeKeys } from "../../src/se/factory-keys.js";
import { ChannelReplay } from "../../src/cloud/tsm/channel.js";
import { parseStatusEntries } from "../../src/cloud/tsm/status.js";
import { parseSyncStep, runOperations } from "../../src/device/relay.js";
import { parseSummary } from "../../src/device/wallet.js";
import { AID } from "../../src/emv/profile.js";
import { startTransaction } from "../../src/emv/terminal/entry-point.js";
import { clearingRecordOf } from "../../src/emv/terminal/clearing-batch.js";
import { damagedClearingRecordArb } from "../../src/emv/testing/clearing-records.js";
import { HostileLink, KINDS, mutationArb, tlvArb } from "../../src/emv/testing/hostile-card.js";
import { amountOf, commandArb } from "../../src/emv/testing/qpboc-commands.js";
import { blankCard, setBlock } from "../../src/mifare/card.js";
import { doorPackage } from "../../src/mifare/door-applet.js";
import { EmulatedClassic } from "../../src/mifare/emulator.js";
import { DUMP_FORMATS, exportDump, importDump } from "../../src/mifare/formats/index.js";
import { parseKeyDictionary } from "../../src/mifare/keys.js";
import { decodeFrameTrace, formatFrameTrace, parseFrameTrace } from "../../src/mifare/frame-trace.js";
import { addDoorCardForTest } from "../../src/mifare/testing/door-card.js";
import { frameTraceDocArb } from "../../src/mifare/testing/frame-trace-docs.js";
import {
  Driver,
  STATE_PREFIXES,
  cardArb,
  driveChecked,
  frameArb,
  invariants,
  stepArb,
} from "../../src/mifare/testing/fuzz.js";
import { decodeTranscript, formatDecoded } from "../../src/nfc/decode.js";
import { parseAts, parseContactlessAtr } from "../../src/nfc/pcsc-atr.js";
import { ImageCard } from "../../src/nfc/replay/image-card.js";
import { TEST_IMAGE } from "../../src/nfc/replay/fixtures.js";
import { TranscriptCard } from "../../src/nfc/replay/transcript-card.js";
import { QPBOC_ONLINE_HEX } from "../../src/nfc/fixtures/qpboc-online.js";
import { CardGoneError } from "../../src/nfc/link.js";
import { MemoryLink } from "../../src/nfc/memory.js";
import { TracingLink } from "../../src/nfc/trace.js";
import { parseTranscriptText } from "../../src/nfc/transcript.js";
import { FrameDecoder, classifyMessage, encodeFrame, parseVpcdAddress } from "../../src/nfc/vpcd-protocol.js";
import { CRS_AID, ISD_AID, PPSE_NAME } from "../../src/se/gp.js";
import { initializeUpdateCommand } from "../../src/se/scp03-host.js";
import type { SecureElement } from "../../src/se/secure-element.js";
import { AIDS, phone, select, sessions, wellFormed } from "../../src/se/testing/fuzz.js";
import { createTestSecureElement } from "../../src/se/testing/provision.js";
import { samplePackage } from "../../src/se/testing/sample-applets.js";
import { readTransitCard } from "../../src/transit/reader/reader.js";
import {
  BLACKLIST_PAGE_FORMAT,
  BLACKLIST_REASONS,
  applyBlacklistPage,
  blacklistOf,
  emptyBlacklistCopy,
  parseBlacklistCopy,
  parseBlacklistPage,
} from "../../src/transit/terminal/blacklist-delta.js";
import { FuzzModel, fuzzStep } from "../../src/transit/testing/fuzz.js";
import { textbookCard } from "../../src/transit/testing/textbook-card.js";
import {
  FUNDING_PAN,
  GENUINE_UN,
  MemoryStore,
  genuineBases,
  personalisedApplet,
  quickPassWorld,
  selectCommand,
} from "../../test/emv-support.js";
import { syncStepArb } from "../../test/sync-arbitraries.js";
import { type Armed, type FuzzTarget, check } from "./runner.js";

/** A counter the property bumps per input. */
function counter() {
  let n = 0;
  return { add: (k = 1) => void (n += k), get: () => n };
}

const sw1Ok = (r: Bytes) => r.length >= 2 && (r[r.length - 2] === 0x90 || r[r.length - 2]! >> 4 === 6);

// ---- applets ----------------------------------------------------------------------------------------------

const seField: FuzzTarget = {
  name: "SE: field interface (routing, PPSE, applets)",
  unit: "APDUs",
  arm() {
    const se = phone();
    const n = counter();
    return {
      property: fc.property(sessions([...AIDS, PPSE_NAME, fromHex("A000000632010105")]), (s) => {
        if (s.selectFirst)
          check(wellFormed(se.process(select(s.selectFirst))), "SELECT without a status word");
        for (const c of s.commands) {
          n.add();
          const r = se.process(c);
          check(wellFormed(r), `answered ${toHex(r)} to ${toHex(c)}`);
        }
      }),
      inputs: n.get,
    };
  },
};

const seHost: FuzzTarget = {
  name: "SE: host interface (card manager, SCP03, CRS)",
  unit: "APDUs",
  arm() {
    const se = phone();
    const n = counter();
    return {
      property: fc.property(
        sessions([...AIDS, ISD_AID, CRS_AID, PPSE_NAME]),
        fc.boolean(),
        ({ selectFirst, commands }, openChannel) => {
          if (selectFirst) se.host.transmit(select(selectFirst));
          if (openChannel)
            check(
              wellFormed(
                se.host.transmit(encodeCommand(initializeUpdateCommand(fromHex("0102030405060708")))),
              ),
              "INITIALIZE UPDATE without a status word",
            );
          for (const c of commands) {
            n.add();
            const r = se.host.transmit(c);
            check(wellFormed(r), `answered ${toHex(r)} to ${toHex(c)}`);
          }
        },
      ),
      inputs: n.get,
    };
  },
};

const TRANSIT_PROFILES = [
  ["T-Union", "tu-jingjinji"],
  ["City Union", "shanghai"],
  ["Shenzhen Tong", "shenzhen-tong"],
  ["Lingnan Pass", "lingnan-pass"],
  ["Wuhan Tong", "wuhan-tong"],
  ["Beijing", "beijing-yikatong"],
] as const;

const transitTargets: FuzzTarget[] = TRANSIT_PROFILES.map(([name, productId]) => ({
  name: `transit e-purse: ${name} (${productId})`,
  unit: "APDUs",
  arm(): Armed {
    const card = textbookCard({ productId, overdraftLimit: productId === "tu-jingjinji" ? 500 : 0 });
    const model = new FuzzModel(card);
    let cases = 0;
    const balanced = () => {
      const b = model.balance();
      check(
        b === model.loads - model.purchases,
        `balance ${b} ≠ loads ${model.loads} − purchases ${model.purchases}`,
      );
    };
    return {
      property: fc.property(fuzzStep, (s) => {
        model.run(s);
        if (++cases % 2000 === 0) balanced();
      }),
      inputs: () => model.fuzzed,
      finally: balanced,
    };
  },
}));

const qpbocApplet: FuzzTarget = {
  name: "qPBOC applet (GPO, READ RECORD, GET DATA, raw)",
  unit: "APDUs",
  arm() {
    const { applet, ctx } = personalisedApplet();
    const personalised = new Map(ctx.store.cells);
    const n = counter();
    return {
      property: fc.property(fc.array(commandArb, { minLength: 1, maxLength: 6 }), (cmds) => {
        ctx.store = new MemoryStore();
        for (const [k, v] of personalised) ctx.store.cells.set(k, v);
        check(applet.select(selectCommand(AID.debit), ctx).sw === 0x9000, "SELECT");
        for (const raw of cmds) {
          n.add();
          const atc = ctx.store.get<number>("atc")!;
          const balance = ctx.store.get<number>("offlineBalance")!;
          let c = null;
          let r;
          if (raw === "select") r = applet.select(selectCommand(AID.debit), ctx);
          else {
            if (raw instanceof Uint8Array) {
              const parsed = parseCommand(raw);
              if (!parsed.ok) continue;
              c = parsed.value;
            } else c = raw;
            r = applet.process(c, ctx);
          }
          check(r.sw >= 0x6000 && r.sw <= 0x9fff, `status word ${r.sw.toString(16)}`);
          check(r.sw === 0x9000 || r.data.length === 0, "data with an error status word");
          const isGpo = c !== null && c.ins === 0xa8 && r.sw === 0x9000;
          const atcAfter = ctx.store.get<number>("atc")!;
          const balanceAfter = ctx.store.get<number>("offlineBalance")!;
          check(atcAfter === (isGpo ? atc + 1 : atc), `ATC ${atc} → ${atcAfter}`);
          check(balanceAfter >= 0, "negative offline balance");
          check(
            balanceAfter === balance || (isGpo && balance - balanceAfter === amountOf(c!)),
            "offline balance moved",
          );
          check((ctx.store.get<string[]>("log") ?? []).length <= 10, "log longer than 10");
        }
      }),
      inputs: n.get,
    };
  },
};

const doorApplet: FuzzTarget = {
  name: "door-card applet on the SE (APDU: field, frame, identity)",
  unit: "APDUs",
  arm() {
    const se: SecureElement = createTestSecureElement({ packages: [doorPackage, samplePackage] });
    const card = blankCard({ type: "mini", uid: fromHex("11223344") });
    const aid = addDoorCardForTest(se, card, { activate: true });
    se.activate();
    const selectDoor = Uint8Array.of(0x00, 0xa4, 0x04, 0x00, aid.length, ...aid, 0x00);
    const n = counter();
    const command = fc.oneof(
      fc
        .tuple(
          fc.constantFrom(0x80, 0x00, 0x84),
          fc.constantFrom(0x4a, 0x4c, 0xca, 0x00, 0xe2, 0xb0),
          fc.nat(9),
          fc.nat(255),
          fc.uint8Array({ maxLength: 40 }),
        )
        .map(([cla, ins, p1, p2, data]) =>
          data.length
            ? Uint8Array.of(cla, ins, p1, p2, data.length, ...data)
            : Uint8Array.of(cla, ins, p1, p2),
        ),
      fc.uint8Array({ maxLength: 30 }),
    );
    return {
      property: fc.property(
        fc.boolean(),
        fc.array(command, { minLength: 1, maxLength: 6 }),
        (fieldOn, cmds) => {
          se.process(selectDoor);
          if (fieldOn) se.process(Uint8Array.of(0x80, 0x4c, 0x01, 0x00));
          for (const c of cmds) {
            n.add();
            const r = se.process(c);
            check(wellFormed(r), `answered ${toHex(r)} to ${toHex(c)}`);
            check(toHex(r.subarray(r.length - 2)) !== "6F00", `6F00 (the applet threw) on ${toHex(c)}`);
          }
        },
      ),
      inputs: n.get,
    };
  },
};

const mifareSequences: FuzzTarget = {
  name: "MIFARE Classic frame handler: reader sequences",
  unit: "frames",
  arm() {
    const n = counter();
    return {
      property: fc.property(
        cardArb,
        fc.array(stepArb, { minLength: 2, maxLength: 16, size: "max" }),
        fc.integer(),
        (card, steps, seed) => {
          driveChecked(card, steps, seed);
          n.add(steps.length);
        },
      ),
      inputs: n.get,
    };
  },
};

const mifareFrames: FuzzTarget = {
  name: "MIFARE Classic frame handler: one frame in each state",
  unit: "frames",
  arm() {
    const cards = fc.sample(cardArb, { numRuns: 24, seed: 5 });
    const n = counter();
    return {
      property: fc.property(
        fc.constantFrom(...cards),
        fc.nat(STATE_PREFIXES.length - 1),
        frameArb,
        (card, p, frame) => {
          const changes: (typeof card)[] = [];
          const e = new EmulatedClassic(card, { nonce: () => 0x01200145, onChange: (c) => changes.push(c) });
          e.fieldOn();
          const d = new Driver(e, card);
          for (const s of STATE_PREFIXES[p]!) d.step(s);
          n.add();
          d.send(frame);
          for (const c of changes) invariants(card, c);
        },
      ),
      inputs: n.get,
    };
  },
};

// ---- parsers ----------------------------------------------------------------------------------------------

const apduParser: FuzzTarget = {
  name: "parser: command and response APDUs (short, extended)",
  unit: "byte strings",
  arm() {
    const n = counter();
    const nearBoundary = fc
      .tuple(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.constantFrom(0, 1, 2, 3, 255, 256, 257, 65535, 65536),
      )
      .chain(([h, len]) =>
        fc
          .tuple(fc.constant(h), fc.constantFrom(Uint8Array.of(0), new Uint8Array(0)), fc.nat(3))
          .map(([hh, z, extra]) => {
            const body = new Uint8Array(Math.min(len, 70_000) + extra);
            const lc = len > 255 ? Uint8Array.of(0, len >> 8, len & 255) : Uint8Array.of(len & 255);
            return Uint8Array.of(...hh, ...z, ...lc, ...body.subarray(0, 300));
          }),
      );
    return {
      property: fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), nearBoundary), (b) => {
        n.add();
        const c = parseCommand(b);
        if (c.ok) check(equal(encodeCommand(c.value), b), `encode(parse(${toHex(b)})) differs`);
        const r = parseResponse(b);
        if (r.ok) check(equal(encodeResponse(r.value), b), "response round trip");
      }),
      inputs: n.get,
    };
  },
};

const tlvParser: FuzzTarget = {
  name: "parser: BER-TLV (multi-byte tags, long lengths, constructed)",
  unit: "byte strings",
  arm() {
    const n = counter();
    return {
      property: fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), tlvArb), (b) => {
        n.add();
        const r = parseTlv(b);
        if (r.ok) {
          // What parsed re-encodes and parses to the same tree.
          const again = parseTlv(encodeTlvs(r.value));
          check(again.ok, "re-encoded TLV does not parse");
        } else check(typeof r.error === "string", "error without text");
        parseTlv(b, { recurse: false, skipPadding: false });
      }),
      inputs: n.get,
    };
  },
};

const dolParser: FuzzTarget = {
  name: "parser: DOL (PDOL/CDOL) and DOL data",
  unit: "byte strings",
  arm() {
    const n = counter();
    return {
      property: fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 20 }), (b, v) => {
        n.add();
        const r = parseDol(b);
        if (!r.ok) return;
        const values = new Map(r.value.map((e) => [e.tag, v] as [number, Uint8Array]));
        check(
          buildDolData(r.value, values).length === dolDataLength(r.value),
          "DOL data of the wrong length",
        );
      }),
      inputs: n.get,
    };
  },
};

/** JSON values near a valid document: the valid one with one field replaced by anything. */
function mutatedJson(valid: unknown): fc.Arbitrary<unknown> {
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, p: (string | number)[]) => {
    paths.push(p);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...p, i]));
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, [...p, k]);
  };
  walk(valid, []);
  return fc.tuple(fc.constantFrom(...paths), fc.anything()).map(([path, value]) => {
    if (path.length === 0) return value;
    const copy = structuredClone(valid) as Record<string | number, unknown>;
    let at = copy;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
    at[path[path.length - 1]!] = value;
    return copy;
  });
}

const transcriptReplay: FuzzTarget = {
  name: "parser: replay transcript (JSON) and its card",
  unit: "documents + APDUs",
  arm() {
    const n = counter();
    const valid = { apdus: QPBOC_ONLINE_HEX };
    const card = TranscriptCard.fromJson(valid);
    if (!card.ok) throw new Error(card.error);
    return {
      property: fc.property(
        fc.oneof(mutatedJson(valid), fc.anything()),
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 4 }),
        (json, commands) => {
          n.add(1 + commands.length);
          const t = TranscriptCard.fromJson(json);
          const c = t.ok ? t.value : card.value;
          for (const b of commands) check(sw1Ok(c.process(b)), "answer without a status word");
        },
      ),
      inputs: n.get,
    };
  },
};

const imageReplay: FuzzTarget = {
  name: "parser: replay card image (JSON) and its card",
  unit: "documents + APDUs",
  arm() {
    const n = counter();
    const interesting = fc
      .tuple(
        fc.constantFrom(0x00, 0x80, 0x84, 0xff, 0x01, 0x0c),
        fc.constantFrom(0xa4, 0xb0, 0xb2, 0x5c, 0xca, 0xcb, 0xa8, 0x84),
        fc.nat(255),
        fc.nat(255),
        fc.uint8Array({ maxLength: 20 }),
      )
      .map(([cla, ins, p1, p2, rest]) => Uint8Array.of(cla, ins, p1, p2, ...rest));
    const good = ImageCard.fromJson(TEST_IMAGE);
    if (!good.ok) throw new Error(good.error);
    return {
      property: fc.property(
        fc.oneof(mutatedJson(TEST_IMAGE), fc.anything()),
        fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), interesting), { maxLength: 5 }),
        (json, commands) => {
          n.add(1 + commands.length);
          const img = ImageCard.fromJson(json);
          const c = img.ok ? img.value : good.value;
          for (const b of commands) check(sw1Ok(c.process(b)), "answer without a status word");
        },
      ),
      inputs: n.get,
    };
  },
};

const dumpFormats: FuzzTarget = {
  name: "parser: door-card dumps (Proxmark JSON, bin/mfd, eml, MCT, Flipper .nfc) and key dictionaries",
  unit: "files",
  arm() {
    const n = counter();
    const base = blankCard({ type: "1k", uid: fromHex("01A062BD") });
    setBlock(base.memory!, 4, fromHex("54415057414C4C455400000000000042"));
    const exports: [(typeof DUMP_FORMATS)[number], Bytes][] = [];
    for (const f of DUMP_FORMATS) {
      const e = exportDump(base, f);
      if (e.ok) exports.push([f, e.value.bytes]);
    }
    const mutated = fc
      .tuple(
        fc.constantFrom(...exports),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }),
        fc.nat(),
      )
      .map(([[format, file], edits, cut]) => {
        const b = Uint8Array.from(file);
        for (const [at, v] of edits) b[at % b.length] = v;
        return { format, bytes: cut % 5 === 0 ? b.subarray(0, cut % (b.length + 1)) : b };
      });
    return {
      property: fc.property(
        fc.oneof(
          mutated,
          fc.record({ format: fc.constantFrom(...DUMP_FORMATS), bytes: fc.uint8Array({ maxLength: 1200 }) }),
        ),
        fc.string({ maxLength: 200 }),
        ({ format, bytes }, text) => {
          n.add(3);
          const given = importDump(bytes, { format });
          if (given.ok)
            check(!given.value.card.memory || given.value.card.memory.data.length % 16 === 0, "odd card");
          importDump(bytes, { fileName: `x.${format}` });
          const d = parseKeyDictionary(text);
          if (d.ok) for (const k of d.value) check(k.length === 6, "a key that is not 6 bytes");
        },
      ),
      inputs: n.get,
    };
  },
};

const traceFiles: FuzzTarget = {
  name: "parser: trace files and the APDU decoder (zh/en)",
  unit: "files + exchanges",
  arm() {
    const n = counter();
    const valid = JSON.stringify({ apdus: QPBOC_ONLINE_HEX });
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc
        .tuple(fc.nat(valid.length), fc.nat(valid.length), fc.string({ maxLength: 8 }))
        .map(([a, b, s]) => valid.slice(0, Math.min(a, b)) + s + valid.slice(Math.max(a, b))),
    );
    return {
      property: fc.property(
        text,
        fc.array(
          fc.tuple(fc.uint8Array({ maxLength: 60 }), fc.oneof(fc.uint8Array({ maxLength: 80 }), tlvArb)),
          {
            maxLength: 5,
          },
        ),
        (t, pairs) => {
          n.add(1 + pairs.length);
          const parsed = parseTranscriptText(t);
          const apdus = parsed.ok
            ? parsed.value.apdus
            : pairs.map(([command, response]) => ({ command, response }));
          const d = decodeTranscript(apdus);
          check(
            typeof formatDecoded(d, "zh") === "string" && typeof formatDecoded(d, "en") === "string",
            "format",
          );
        },
      ),
      inputs: n.get,
    };
  },
};

const vpcdFraming: FuzzTarget = {
  name: "parser: vpcd framing (TCP chunks, messages, addresses)",
  unit: "chunks",
  arm() {
    const n = counter();
    return {
      property: fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(40), { maxLength: 6 }),
        fc.string({ maxLength: 40 }),
        (payloads, cuts, address) => {
          // Genuine frames cut anywhere, then junk: every whole frame comes out once, in order.
          const stream = Buffer.concat(payloads.map((p) => encodeFrame(p)));
          const d = new FrameDecoder();
          const got: Bytes[] = [];
          let at = 0;
          for (const c of [...cuts, stream.length]) {
            const end = Math.min(stream.length, at + c);
            got.push(...d.push(stream.subarray(at, end)));
            at = end;
          }
          got.push(...d.push(stream.subarray(at)));
          n.add(cuts.length + 1);
          check(got.length === payloads.length, `${got.length} frames out of ${payloads.length}`);
          for (const [i, g] of got.entries()) {
            check(equal(g, payloads[i]!), "frame changed");
            classifyMessage(g);
          }
          const a = parseVpcdAddress(address);
          if (a.ok) check(a.value.port >= 1 && a.value.port <= 65535, "port out of range");
        },
      ),
      inputs: n.get,
    };
  },
};

const pcscAtr: FuzzTarget = {
  name: "parser: PC/SC ATR and ISO 14443-4 ATS",
  unit: "byte strings",
  arm() {
    const n = counter();
    return {
      property: fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        n.add();
        parseContactlessAtr(bytes);
        const ats = parseAts(bytes);
        if (ats.ok) check(ats.value.historical.length < bytes.length, "historical bytes longer than the ATS");
      }),
      inputs: n.get,
    };
  },
};

const syncMessages: FuzzTarget = {
  name: "parser: TSM sync messages (phone: steps, summaries, operations on the SE; TSM: GET STATUS, R-MAC)",
  unit: "messages",
  arm() {
    const n = counter();
    const se = phone();
    const keys = diversifySeKeys(DEV_SE_MASTER_KEY, fromHex("0102030405060708"));
    const stepish = syncStepArb(AIDS.map(toHex));
    const statusEntry = fc
      .tuple(
        fc.uint8Array({ maxLength: 18 }),
        fc.uint8Array({ maxLength: 2 }),
        fc.uint8Array({ maxLength: 70 }),
      )
      .map(([aid, lc, file]) =>
        Uint8Array.of(
          0xe3,
          aid.length + lc.length + file.length + 8,
          0x4f,
          aid.length,
          ...aid,
          0x9f,
          0x70,
          lc.length,
          ...lc,
          0xc4,
          file.length,
          ...file,
        ),
      );
    return {
      property: fc.property(
        fc.oneof(fc.anything(), stepish),
        fc.oneof(fc.uint8Array({ maxLength: 300 }), statusEntry),
        fc.uint8Array({ maxLength: 64 }),
        (json, status, junk) => {
          n.add(4);
          const r = parseSyncStep(json);
          if (r.ok && !r.value.done) {
            check(r.value.step >= 1, "step below 1");
            const results = runOperations(se, r.value.operations.slice(0, 8));
            check(results.length <= r.value.operations.length, "more results than operations");
            se.host.reset();
          }
          const s = parseSummary(json);
          if (s.ok) check(typeof s.value.outcome === "string", "summary without outcome");
          const e = parseStatusEntries(status);
          if (e.ok) for (const x of e.value) check(/^([0-9A-F]{2}){5,16}$/.test(x.aid), `AID ${x.aid}`);
          // An answer without the SE's R-MAC never passes the TSM's channel.
          const channel = ChannelReplay.open(
            keys,
            fromHex("1122334455667788"),
            Uint8Array.of(...junk, 0x90, 0x00),
          );
          if (channel.ok)
            check(!channel.value.unwrap(Uint8Array.of(...junk, 0x90, 0x00)).ok, "unwrapped junk");
        },
      ),
      inputs: n.get,
    };
  },
};

const frameTraceFiles: FuzzTarget = {
  name: "parser: MIFARE Classic frame-trace files and their decoder (zh/en)",
  unit: "files",
  arm() {
    const n = counter();
    return {
      property: fc.property(frameTraceDocArb, (json) => {
        n.add();
        const r = parseFrameTrace(json);
        if (!r.ok) {
          check(r.error.length > 0, "refusal without a reason");
          return;
        }
        const d = decodeFrameTrace(r.value);
        check(d.frames.length === r.value.length, "a frame lost in decoding");
        check(formatFrameTrace(d, "zh").length > 0 && formatFrameTrace(d, "en").length > 0, "format");
      }),
      inputs: n.get,
    };
  },
};

const blacklistPages: FuzzTarget = {
  name: "parser: transit blacklist pages and a gate's stored copy",
  unit: "pages",
  arm() {
    const n = counter();
    const small = fc.integer({ min: -1, max: 12 });
    const entry = fc.record({
      seq: small,
      cardNumber: fc.oneof(fc.stringMatching(/^[0-9]{1,20}$/), fc.string({ maxLength: 6 })),
      reason: fc.constantFrom(...BLACKLIST_REASONS, "lost"),
      listedAt: fc.oneof(fc.constant("2026-05-01T00:00:00.000Z"), fc.integer()),
    });
    const page = fc.record({
      format: fc.constantFrom(BLACKLIST_PAGE_FORMAT, "tapwallet.transit.blacklist/0"),
      product: fc.constantFrom("tu-jingjinji", "shanghai", "shenzhen-tong", "nowhere"),
      system: fc.constantFrom("t-union", "city-union", "shenzhen-tong"),
      version: small,
      since: small,
      next: small,
      more: fc.boolean(),
      entries: fc.array(entry, { maxLength: 8 }),
    });
    // Pages a gate would take (from 0, numbered 1..n), and the same with one field replaced.
    const wellFormed = fc
      .tuple(fc.array(entry, { maxLength: 8 }), fc.nat(3), fc.constantFrom("tu-jingjinji", "shanghai"))
      .map(([entries, beyond, product]) => {
        const numbered = entries.map((e, i) => ({ ...e, seq: i + 1 }));
        const version = numbered.length + beyond;
        return {
          format: BLACKLIST_PAGE_FORMAT,
          product,
          system: product === "shanghai" ? "city-union" : "t-union",
          version,
          since: 0,
          next: numbered.length,
          more: numbered.length < version,
          entries: numbered,
        };
      });
    const replaced = fc
      .tuple(
        wellFormed,
        fc.constantFrom("version", "since", "next", "more", "entries", "system"),
        fc.jsonValue(),
      )
      .map(([p, key, value]) => ({ ...p, [key]: value }));
    return {
      property: fc.property(fc.oneof(wellFormed, replaced, page, fc.jsonValue()), (v) => {
        n.add();
        check(parseBlacklistCopy(v).products !== undefined, "a stored copy without products");
        const p = parseBlacklistPage(v);
        if (!p.ok) return;
        const applied = applyBlacklistPage(emptyBlacklistCopy(), p.value);
        if (!applied.ok) return;
        // A page the copy takes moves it to the page's `next` and lists every card the page named.
        check(applied.value.products[p.value.product]?.version === p.value.next, "version after the page");
        const list = blacklistOf(applied.value);
        for (const e of p.value.entries)
          check(list.has(p.value.system, e.cardNumber), `card ${e.cardNumber} not listed`);
      }),
      inputs: n.get,
    };
  },
};

// ---- terminals against hostile cards -------------------------------------------------------------------

const UN = GENUINE_UN;

const posKernel: FuzzTarget = {
  name: "POS kernel (entry point + C-7) against hostile cards",
  unit: "transactions",
  async arm() {
    const clock = new ManualClock("2026-03-01T04:00:00Z");
    const bases = await genuineBases();
    const n = counter();
    return {
      property: fc.asyncProperty(
        fc.constantFrom("online" as const, "offline" as const, "tlv" as const),
        fc.array(mutationArb, { minLength: 1, maxLength: 8 }),
        fc.array(tlvArb, { minLength: 1, maxLength: 8 }),
        async (which, mutations, randomAnswers) => {
          n.add();
          const b = bases[which === "tlv" ? "offline" : which];
          const link =
            which === "tlv"
              ? new HostileLink(
                  randomAnswers.map((a) => Uint8Array.of(...a, 0x90, 0x00)),
                  [],
                )
              : new HostileLink(b.answers, mutations);
          await link.fieldOn();
          const o = await startTransaction(
            link,
            b.config,
            { amount: b.amount, sequenceCounter: 1, unpredictableNumber: UN },
            { clock, random: () => UN },
          );
          check(KINDS.has(o.kind), `outcome ${o.kind}`);
          check(o.reason.zh.length > 0 && o.reason.en.length > 0, "reason without text");
          if (o.kind === "approved") check(o.card?.fdda === "passed", "approved offline without fDDA");
          if (o.kind === "online-request")
            check((o.field55?.length ?? 0) > 0, "online request without field 55");
          if (which === "tlv")
            check(o.kind !== "approved" && o.kind !== "online-request", "random TLV card accepted");
        },
      ),
      inputs: n.get,
    };
  },
};

const transitReader: FuzzTarget = {
  name: "transit card reader against hostile cards (every system)",
  unit: "reads",
  async arm() {
    const bases: Bytes[][] = [];
    for (const [, productId] of TRANSIT_PROFILES) {
      const card = textbookCard({ productId });
      card.load(3000, 0);
      const link = new TracingLink(new MemoryLink(card.se));
      await link.fieldOn();
      const r = await readTransitCard(link);
      if (!r.ok) throw new Error(`cannot read ${productId}: ${r.error.reason}`);
      bases.push(link.records.map((x) => x.response!));
    }
    const n = counter();
    return {
      property: fc.asyncProperty(
        fc.nat(bases.length - 1),
        fc.array(mutationArb, { minLength: 1, maxLength: 12 }),
        async (k, mutations) => {
          n.add();
          const link = new HostileLink(bases[k]!, mutations);
          await link.fieldOn();
          let r;
          try {
            r = await readTransitCard(link);
          } catch (e) {
            // The card leaving mid-read is the transport's CardGoneError, which the terminals report as such.
            check(e instanceof CardGoneError, `the reader threw ${String(e)}`);
            return;
          }
          if (r.ok) check(Number.isInteger(r.value.balance), "balance not an integer");
          else check(r.error.reason.length > 0, "refusal without a reason");
        },
      ),
      inputs: n.get,
    };
  },
};

// ---- the issuer -------------------------------------------------------------------------------------------

const offlineClearing: FuzzTarget = {
  name: "issuer: offline clearing of damaged and arbitrary records",
  unit: "records",
  async arm() {
    const w = await quickPassWorld({ floorLimit: 300_00 });
    const paid = await w.pos.pay(w.link, 100_00);
    const genuine = clearingRecordOf(paid, w.config);
    if (!genuine) throw new Error(`the genuine offline payment was ${paid.status}, not an offline approval`);
    const start = (await w.issuer.account(FUNDING_PAN))!.available;
    const n = counter();
    let cleared = 0;
    return {
      property: fc.asyncProperty(damagedClearingRecordArb(genuine), async (input) => {
        n.add();
        const r = await w.issuer.clear(input);
        check(["cleared", "duplicate", "refused"].includes(r.status), `status ${r.status}`);
        check(r.message.zh.length > 0 && r.message.en.length > 0, "answer without text");
        if (r.status === "cleared") cleared++;
        // Only the genuine payment ever moves money, once.
        check(cleared <= 1, "cleared twice");
        const available = (await w.issuer.account(FUNDING_PAN))!.available;
        check(available === start - cleared * genuine.amount, `available ${available} after ${cleared}`);
      }),
      inputs: n.get,
    };
  },
};

export const FUZZ_TARGETS: FuzzTarget[] = [
  seField,
  seHost,
  ...transitTargets,
  qpbocApplet,
  doorApplet,
  mifareSequences,
  mifareFrames,
  apduParser,
  tlvParser,
  dolParser,
  transcriptReplay,
  imageReplay,
  dumpFormats,
  traceFiles,
  frameTraceFiles,
  blacklistPages,
  vpcdFraming,
  pcscAtr,
  syncMessages,
  posKernel,
  transitReader,
  offlineClearing,
];
