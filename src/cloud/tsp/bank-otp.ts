/**
 * Who delivers the bank's one-time code to the mobile number the bank keeps for a card (银行预留手机号).
 * In production that is the bank's own SMS channel (none is wired in yet); in development the code is
 * printed in the server log, clearly labelled, with the number masked — like the sign-in code; tests read
 * it from `MemoryBankOtpSender`.
 */
import { maskPhone } from "../accounts/phone.js";
import type { CloudLog } from "../context.js";
import type { Bank } from "./bins.js";

export interface BankOtpMessage {
  bank: Bank;
  /** The bank's reserved number for the card. */
  phone: string;
  code: string;
  /** Last four digits of the card, as banks' messages name it. */
  cardLast4: string;
}

export interface BankOtpSender {
  /** Delivers the code; rejects if it could not. */
  send(message: BankOtpMessage): Promise<void>;
}

/** DEVELOPMENT ONLY: writes the code to the log instead of an SMS. */
export class LogBankOtpSender implements BankOtpSender {
  constructor(private readonly log: CloudLog) {}
  async send(m: BankOtpMessage): Promise<void> {
    const to = maskPhone(m.phone);
    this.log.warn(
      { devOnly: true, bank: m.bank.code, phone: to },
      `[DEV ONLY 仅开发环境] ${m.bank.zh}验证码 / ${m.bank.en} one-time code for card ••${m.cardLast4} to ${to}: ${m.code}`,
    );
  }
}

/** Keeps the last code per number, for tests and the virtual phone. */
export class MemoryBankOtpSender implements BankOtpSender {
  private readonly codes = new Map<string, string>();
  readonly messages: Omit<BankOtpMessage, "code">[] = [];
  async send(m: BankOtpMessage): Promise<void> {
    this.codes.set(m.phone, m.code);
    this.messages.push({ bank: m.bank, phone: m.phone, cardLast4: m.cardLast4 });
  }
  last(phone: string): string | undefined {
    return this.codes.get(phone);
  }
}
