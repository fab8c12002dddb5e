/** An error a user can read: a stable code and a message in zh-CN with English beside it. */
export class TapwalletError extends Error {
  constructor(
    readonly code: string,
    readonly zh: string,
    readonly en: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(`${zh} / ${en}`);
    this.name = "TapwalletError";
  }
}

export function isTapwalletError(e: unknown): e is TapwalletError {
  return e instanceof TapwalletError;
}
