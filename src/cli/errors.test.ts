import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fileError } from "./errors.js";

describe("fileError", () => {
  const missing = join(import.meta.dirname, "no-such-file.json");
  const text = (why: string) => ({ zh: `读不了（${why}）`, en: `cannot read (${why})` });

  it("a failed read becomes the TapwalletError with the code and the errno in both languages", async () => {
    await expect(fileError(() => readFile(missing, "utf8"), "x_unreadable", text)).rejects.toMatchObject({
      name: "TapwalletError",
      code: "x_unreadable",
      zh: "读不了（ENOENT）",
      en: "cannot read (ENOENT)",
    });
  });

  it("an error without an errno code gives its message; a success passes the value through", async () => {
    const failing = () => Promise.reject(new Error("disk on fire"));
    await expect(fileError(failing, "x_unwritable", text)).rejects.toMatchObject({
      en: "cannot read (disk on fire)",
    });
    expect(await fileError(() => Promise.resolve(42), "x", text)).toBe(42);
  });
});
