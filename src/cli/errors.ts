/**
 * How the `tapwallet` command ends on an error: what was wrong on stderr in zh-CN and English (never a stack
 * trace), exit code 2 for an error a user can act on (`TapwalletError`: a bad file, no card, the card left the
 * field…) and 1 for anything else. A command run with `--json` also prints the error as JSON on stdout, in the
 * shape the cloud's API uses: `{"error": code, "message": {"zh", "en"}, "details"?}` (details: what the error
 * carries, e.g. a refused door's decision). A file a command could not read or write is such an error, naming
 * the file and the system's reason (`fileError`).
 */
import { TapwalletError, isTapwalletError } from "../core/errors.js";

export interface ErrorReport {
  stderr: string;
  stdout?: string;
  exitCode: number;
}

export function errorReport(e: unknown, json: boolean): ErrorReport {
  const known = isTapwalletError(e);
  const message = known
    ? { zh: e.zh, en: e.en }
    : { zh: "内部错误", en: e instanceof Error ? e.message : String(e) };
  return {
    stderr: known ? `错误 / error: ${e.zh} / ${e.en}\n` : `错误 / error: ${message.en}\n`,
    ...(json
      ? {
          stdout: `${JSON.stringify({
            error: known ? e.code : "internal",
            message,
            ...(known && e.details ? { details: e.details } : {}),
          })}\n`,
        }
      : {}),
    exitCode: known ? 2 : 1,
  };
}

/**
 * `io` on a file, its failure (no such file, no permission…) thrown as the TapwalletError `code` whose zh-CN and
 * English texts `message` writes around the reason: the errno code (ENOENT, EACCES…), else the error's message.
 */
export async function fileError<T>(
  io: () => Promise<T>,
  code: string,
  message: (why: string) => { zh: string; en: string },
): Promise<T> {
  try {
    return await io();
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.message : String(e));
    const { zh, en } = message(why);
    throw new TapwalletError(code, zh, en);
  }
}
