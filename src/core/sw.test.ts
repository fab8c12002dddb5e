import { describe, expect, it } from "vitest";
import { SW, describeSw, isSuccess } from "./sw.js";

describe("status words", () => {
  it("describes exact and parameterised status words in zh and en", () => {
    expect(describeSw(SW.OK)).toEqual({ zh: "成功", en: "success" });
    expect(describeSw(SW.FILE_NOT_FOUND).en).toBe("file or application not found");
    expect(describeSw(0x6110).en).toBe("16 more bytes available");
    expect(describeSw(0x6100).en).toBe("256 more bytes available");
    expect(describeSw(0x6c04).en).toBe("wrong Le, exact length is 4");
    expect(describeSw(0x63c2).en).toBe("verification failed, 2 tries left");
    expect(describeSw(0x9401).zh).toBe("余额不足");
    expect(describeSw(0x6999).en).toBe("command not allowed");
    expect(describeSw(0x1234).en).toBe("unknown status word");
  });

  it("treats 9000 and 61XX as success", () => {
    expect(isSuccess(0x9000)).toBe(true);
    expect(isSuccess(0x6120)).toBe(true);
    expect(isSuccess(0x6a82)).toBe(false);
  });
});
