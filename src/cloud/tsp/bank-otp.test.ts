/** The development bank-code sender prints the code (development only, labelled), the number masked, no card number. */
import { describe, expect, it } from "vitest";
import { LogBankOtpSender, MemoryBankOtpSender } from "./bank-otp.js";
import { BANKS } from "./bins.js";

describe("bank one-time-code senders", () => {
  it("logs the code labelled DEV ONLY, with the reserved number masked and only the card's last four digits", async () => {
    const lines: { obj: object; msg: string | undefined }[] = [];
    const log = {
      info: () => {},
      error: () => {},
      warn: (obj: object, msg?: string) => void lines.push({ obj, msg }),
    };
    await new LogBankOtpSender(log).send({
      bank: BANKS.ICBC,
      phone: "13900139000",
      code: "482916",
      cardLast4: "0101",
    });
    expect(lines).toHaveLength(1);
    const text = JSON.stringify(lines[0]);
    expect(lines[0]!.msg).toContain("[DEV ONLY 仅开发环境]");
    expect(lines[0]!.msg).toContain("482916");
    expect(lines[0]!.msg).toContain("139****9000");
    expect(lines[0]!.msg).toContain("••0101");
    expect(text).not.toContain("13900139000");
  });

  it("keeps the last code per number in memory, and what was sent without the codes", async () => {
    const m = new MemoryBankOtpSender();
    await m.send({ bank: BANKS.BOC, phone: "13900139200", code: "111111", cardLast4: "3001" });
    await m.send({ bank: BANKS.BOC, phone: "13900139200", code: "222222", cardLast4: "3001" });
    expect(m.last("13900139200")).toBe("222222");
    expect(m.last("13800138000")).toBeUndefined();
    expect(JSON.stringify(m.messages)).not.toContain("222222");
  });
});
