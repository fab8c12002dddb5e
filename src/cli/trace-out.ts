/**
 * `--trace-out FILE` of `door open`: the tap's trace saved for `tapwallet trace FILE`. A door open on the phone
 * in memory is a MIFARE Classic frame trace (src/mifare/frame-trace.ts, authentication nonces hidden); over
 * PC/SC it is the APDU transcript of the reader's pseudo-APDUs, with LOAD KEY's key bytes written as zeros.
 * Keys never reach the file either way.
 */
import { writeFile } from "node:fs/promises";
import { fileError } from "./errors.js";
import { saveFrameTrace } from "../mifare/frame-trace.js";
import type { FrameTraceEntry } from "../nfc/frame.js";
import type { TracingLink } from "../nfc/trace.js";
import { type Transcript, transcriptToJson } from "../nfc/transcript.js";

const saving = (path: string, write: () => Promise<void>): Promise<void> =>
  fileError(write, "trace_unwritable", (why) => ({
    zh: `无法写入跟踪文件 ${path}（${why}）`,
    en: `cannot write trace file ${path} (${why})`,
  }));

export const saveDoorFrameTrace = (path: string, trace: readonly FrameTraceEntry[]): Promise<void> =>
  saving(path, () => saveFrameTrace(path, trace));

/** The transcript with every reader LOAD KEY (`FF 82 00 slot Lc key`) carrying zeros instead of the key. */
export function withoutReaderKeys(t: Transcript): Transcript {
  return {
    ...t,
    apdus: t.apdus.map((e) =>
      e.command[0] === 0xff && e.command[1] === 0x82 && e.command.length > 5
        ? { ...e, command: Uint8Array.from(e.command, (b, i) => (i < 5 ? b : 0)) }
        : e,
    ),
  };
}

export const saveDoorApduTrace = (path: string, link: TracingLink): Promise<void> =>
  saving(path, () =>
    writeFile(path, `${JSON.stringify(transcriptToJson(withoutReaderKeys(link.transcript())), null, 2)}\n`, {
      mode: 0o600,
    }),
  );
