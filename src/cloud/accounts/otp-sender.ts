/**
 * Who delivers one-time codes. Production plugs in an SMS gateway; development prints the code to the
 * server log (`LogOtpSender`, clearly labelled: the one place a secret-like value is printed); tests read
 * it from `MemoryOtpSender`.
 */
import type { CloudLog } from "../context.js";
import { maskPhone } from "./phone.js";

export interface OtpSender {
  /** Delivers `code` to `phone`; rejects if it could not. */
  send(phone: string, code: string): Promise<void>;
}

/** DEVELOPMENT ONLY: writes the code to the log instead of sending an SMS. */
export class LogOtpSender implements OtpSender {
  constructor(private readonly log: CloudLog) {}
  async send(phone: string, code: string): Promise<void> {
    this.log.warn(
      { devOnly: true, phone: maskPhone(phone) },
      `[DEV ONLY 仅开发环境] 验证码 / one-time code for ${maskPhone(phone)}: ${code}`,
    );
  }
}

/** Keeps the last code per number in memory, for tests and the virtual phone. */
export class MemoryOtpSender implements OtpSender {
  private readonly codes = new Map<string, string>();
  sent = 0;
  async send(phone: string, code: string): Promise<void> {
    this.codes.set(phone, code);
    this.sent++;
  }
  last(phone: string): string | undefined {
    return this.codes.get(phone);
  }
}
