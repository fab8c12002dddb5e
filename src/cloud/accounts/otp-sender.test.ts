import { describe, expect, it } from "vitest";
import { LogOtpSender, MemoryOtpSender } from "./otp-sender.js";

describe("one-time code senders", () => {
  it("the development sender prints the code, labelled DEV ONLY, with the number masked", async () => {
    const lines: { obj: object; msg?: string }[] = [];
    const log = {
      info: () => {},
      error: () => {},
      warn: (obj: object, msg?: string) => void lines.push({ obj, msg }),
    };
    await new LogOtpSender(log).send("13800138000", "042917");
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toBe("[DEV ONLY 仅开发环境] 验证码 / one-time code for 138****8000: 042917");
    expect(lines[0]!.obj).toEqual({ devOnly: true, phone: "138****8000" });
    expect(JSON.stringify(lines)).not.toContain("13800138000");
  });

  it("the memory sender keeps the last code per number", async () => {
    const s = new MemoryOtpSender();
    await s.send("13800138000", "111111");
    await s.send("13800138000", "222222");
    expect(s.last("13800138000")).toBe("222222");
    expect(s.last("13900139000")).toBeUndefined();
    expect(s.sent).toBe(2);
  });
});
