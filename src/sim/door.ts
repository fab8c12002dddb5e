/**
 * Door cards on the phones' side: the phone's own check of a dump before anything is uploaded (the same
 * emulatable check the cloud applies: what the card is, and every reason it may not be copied), and a card
 * reader on the simulator's desk that reads a sample access fob with the MIFARE dictionary attack and hands
 * back its dump, as `tapwallet door` would from a real reader.
 *
 * Nothing here returns a key: sectors say only whether a default key opened them.
 */
import { randomBytes } from "node:crypto";
import { type Bytes, toHex } from "../core/bytes.js";
import { TapwalletError } from "../core/errors.js";
import { decodeAccessBits } from "../mifare/access.js";
import { type MifareCard, blankCard, trailerParts, DEFAULT_TRANSPORT_KEY } from "../mifare/card.js";
import { EmulatedClassic } from "../mifare/emulator.js";
import { checkEmulatable } from "../mifare/emulatable.js";
import { type ImportedDump, exportDump, importDump } from "../mifare/formats/index.js";
import { sectorCount, trailerOfSector } from "../mifare/geometry.js";
import { isDefaultKey } from "../mifare/keys.js";
import { readCard } from "../mifare/reader.js";
import { MemoryFrameLink } from "../nfc/frame.js";
import { BadInputError } from "./errors.js";
import type { Bilingual } from "../core/text.js";
import type { DoorInspection } from "../protocol/wallet-views.js";
import { type FrameTimeline, frameTimeline } from "./timeline.js";

export type { DoorInspection };

function inspect(dump: ImportedDump): DoorInspection {
  const { card } = dump;
  const verdict = checkEmulatable(card);
  const m = card.memory;
  return {
    format: dump.format,
    type: card.type,
    uid: toHex(card.uid),
    sak: toHex(Uint8Array.of(card.sak)),
    atqa: toHex(card.atqa),
    kind: verdict.kind,
    emulatable: verdict.emulatable,
    reasons: verdict.reasons.map((r) => ({ code: r.code, sector: r.sector, zh: r.zh, en: r.en })),
    warnings: dump.warnings.map((w) => ({ code: w.code, zh: w.zh, en: w.en })),
    sectors: m
      ? Array.from({ length: sectorCount(card.type) }, (_, index) => {
          const t = trailerParts(m, index);
          return {
            index,
            defaultKeys: t.keyA !== null && isDefaultKey(t.keyA) && (t.keyB === null || isDefaultKey(t.keyB)),
            accessBitsValid: t.access !== null && decodeAccessBits(t.access) !== null,
          };
        })
      : [],
  };
}

/** A dump's bytes (any supported format) → what the phone makes of it; a file it cannot read throws. */
export function inspectDump(bytes: Bytes, fileName?: string): DoorInspection {
  const r = importDump(bytes, fileName ? { fileName } : {});
  if (!r.ok)
    throw new BadInputError(
      r.error.code,
      r.error.zh,
      r.error.en,
      r.error.line === undefined ? undefined : { line: r.error.line },
    );
  return inspect(r.value);
}

// ---- the simulator's card reader ---------------------------------------------------------------------

export const SAMPLE_FOBS = ["blank", "encrypted"] as const;
export type SampleFob = (typeof SAMPLE_FOBS)[number];

const SAMPLE_NAMES: Record<SampleFob, Bilingual> = {
  blank: { zh: "出厂状态门禁扣（全部默认密钥）", en: "Factory-state key fob (default keys)" },
  encrypted: { zh: "加密门禁卡（扇区 3 使用站点密钥）", en: "Encrypted access card (site key on sector 3)" },
};

/** A site key no dictionary holds (sample only: it never leaves this module). */
const SITE_KEY = Uint8Array.of(0x5a, 0x17, 0xe3, 0xc0, 0x9b, 0x41);

function sampleCard(sample: SampleFob, uid: Bytes): MifareCard {
  const card = blankCard({ type: "1k", uid });
  if (sample === "encrypted" && card.memory) {
    const at = trailerOfSector(3) * 16;
    card.memory.data.set(SITE_KEY, at);
    card.memory.data.set(SITE_KEY, at + 10);
    // A credential in the sector, as an installation writes it.
    card.memory.data.set(
      Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i),
      12 * 16,
    );
  }
  return card;
}

export interface ReaderRead {
  sample: SampleFob;
  name: Bilingual;
  fileName: string;
  /** The dump as read (Flipper .nfc), base64: what could not be read stays unknown. */
  dump: string;
  sectorsRead: number;
  sectors: number;
  inspection: DoorInspection;
  timeline: FrameTimeline;
  softwareMs: number;
}

/** Puts a sample fob on the simulator's reader and reads it with the built-in key dictionary. */
export async function readSampleFob(sample: SampleFob, uid: Bytes = randomBytes(4)): Promise<ReaderRead> {
  const fob = new EmulatedClassic(sampleCard(sample, uid));
  const link = new MemoryFrameLink(fob, { trace: true });
  const started = performance.now();
  const r = await readCard(link);
  await link.fieldOff();
  const softwareMs = performance.now() - started;
  if (!r.ok) throw new TapwalletError(r.error.code, r.error.zh, r.error.en);
  // Flipper's .nfc keeps what could not be read as unknown ("??"), so the cloud sees the same card.
  const exported = exportDump(r.value.card, "nfc");
  if (!exported.ok) throw new TapwalletError(exported.error.code, exported.error.zh, exported.error.en);
  return {
    sample,
    name: SAMPLE_NAMES[sample],
    fileName: `fob-${toHex(uid)}.nfc`,
    dump: Buffer.from(exported.value.bytes).toString("base64"),
    sectorsRead: r.value.sectors.filter((s) => s.blocksRead === s.blocks).length,
    sectors: r.value.sectors.length,
    inspection: inspect({ format: "nfc", card: r.value.card, warnings: exported.value.warnings }),
    timeline: frameTimeline(link.trace),
    softwareMs,
  };
}

/** The key a door reader in sector mode authenticates its credential block with (the default key). */
export const DOOR_SITE = { block: 4, keyType: "A" as const, key: DEFAULT_TRANSPORT_KEY };
