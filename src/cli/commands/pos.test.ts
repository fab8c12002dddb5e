/** `tapwallet pos` and `tapwallet demo quickpass`: functions, files, and one spawned run. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ascii, concat, fromHex, toHex } from "../../core/bytes.js";
import { tlv } from "../../core/tlv.js";
import { AID } from "../../emv/profile.js";
import { personalisedApplet } from "../../../test/emv-support.js";
import { quickPassDemo } from "./demo-quickpass.js";
import { posCommand } from "./pos.js";

const TRACE = "test/fixtures/emv/qpboc-online-trace.transcript.json";
const TRACE_FIELD55 =
  "9F2608AD03EE811AFAD4849F2701809F101307010103A00000010A010000038787868FD1FC9F37042B29EBE49F36020ADC95050000000000" +
  "9A031706019C01009F02060000000000015F2A02015682027C009F1A0201569F03060000000000009F3303E0E9C89F34030000009F3501" +
  "229F1E0846464646464646468408A0000003330101019F090200009F410400000005";
const traceArgs = {
  amount: "0.01",
  replay: TRACE,
  un: "2B29EBE4",
  at: "2017-06-01T16:36:21+08:00",
  ttq: "36000000",
  appVersion: "0000",
  ifdSerial: "FFFFFFFF",
  sequence: "5",
};

describe("tapwallet pos", () => {
  it("replays the real qPBOC trace into its field 55; without an issuer the online request is declined", async () => {
    const run = await posCommand(traceArgs);
    expect(run.json.field55).toBe(TRACE_FIELD55);
    expect(run.result.outcome.kind).toBe("online-request");
    expect(run.result.status).toBe("declined");
    expect(run.text).toContain("无法联机");
    expect(run.text).toContain("6299 99•• •••• 9999");
    expect(run.text).not.toContain("6299999999999999");
  });

  it("reads a card image (selects it, but an image cannot make a cryptogram: the card's refusal is reported)", async () => {
    const { dgis } = personalisedApplet();
    const hex = (dgi: number) => toHex(dgis.find((d) => d.dgi === dgi)!.data);
    const fci = toHex(tlv(0x6f, concat(tlv(0x84, AID.debit), tlv(0xa5, fromHex(hex(0x9102))))));
    const image = {
      ppse: toHex(
        tlv(
          0x6f,
          concat(
            tlv(0x84, ascii("2PAY.SYS.DDF01")),
            tlv(0xa5, tlv(0xbf0c, tlv(0x61, concat(tlv(0x4f, AID.debit), tlv(0x87, Uint8Array.of(1)))))),
          ),
        ),
      ),
      applications: [
        {
          aid: toHex(AID.debit),
          fci,
          files: { "01": { records: [hex(0x0101)] }, "02": { records: [hex(0x0201)] } },
        },
      ],
    };
    const dir = mkdtempSync(join(tmpdir(), "tw-img-"));
    const file = join(dir, "card.json");
    writeFileSync(file, JSON.stringify(image));
    const r = await posCommand({ amount: "1.00", image: file, trace: true });
    expect(r.result.status).toBe("declined");
    expect(r.result.reason.code).toBe("gpo-error");
    expect(r.text).toContain("GET PROCESSING OPTIONS");
  });

  it("refuses two card sources, a bad amount and a bad --un, in both languages", async () => {
    await expect(posCommand({ amount: "1", replay: TRACE, image: TRACE })).rejects.toThrow(/--replay/);
    await expect(posCommand({ amount: "abc", replay: TRACE })).rejects.toThrow(/金额/);
    await expect(posCommand({ ...traceArgs, un: "12" })).rejects.toThrow(/4 bytes/);
  });

  it("pays from a saved phone against a saved issuer (demo --save), and the phone's ATC moves on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tw-qp-"));
    const lines: string[] = [];
    const demo = await quickPassDemo({ save: dir }, (l) => lines.push(l));
    expect(demo.statuses).toEqual(["approved", "declined", "approved"]);
    const phone = join(dir, "phone-se.json");
    const issuer = join(dir, "issuer.json");
    const r = await posCommand({ amount: "8.00", phone, issuer });
    expect(r.result.status).toBe("approved");
    expect(r.json.card).toMatchObject({ atc: "0004" });
    const declined = await posCommand({ amount: "1500", phone, issuer });
    expect(declined.result.status).toBe("declined");
    const verified = await posCommand({ amount: "1500", phone, issuer, verified: true });
    expect(verified.result.outcome.cvm).toBe("cdcvm");
    expect(verified.result.status).toBe("approved");
    // The issuer file keeps the state: the account paid 12.34 + 1288.00 + 8.00 + 1500.00.
    const file = JSON.parse(readFileSync(issuer, "utf8"));
    expect(file.state.accounts[0].available).toBe(10_000_00 - 12_34 - 1288_00 - 8_00 - 1500_00);
    expect(readFileSync(issuer, "utf8")).not.toMatch(/62170000001234567/);
  });
});

describe("tapwallet demo quickpass", () => {
  it("prints each outcome in Chinese with English beside, and the APDUs with --trace", async () => {
    const lines: string[] = [];
    const r = await quickPassDemo({ trace: true }, (l) => lines.push(l));
    expect(r.statuses).toEqual(["approved", "declined", "approved"]);
    const text = lines.join("\n");
    expect(text).toContain("交易成功 / APPROVED");
    expect(text).toContain("请在手机上验证身份后重试 / verify on your phone, then tap again");
    expect(text).toContain("GET PROCESSING OPTIONS");
    expect(text).not.toMatch(/62170000001234567/);
  });
});

describe("spawned", () => {
  it("tapwallet pos --replay … --json prints the trace's field 55 and exits 3 (not approved)", () => {
    let out = "";
    let code = 0;
    try {
      execFileSync(
        "npx",
        [
          "tsx",
          "src/cli/main.ts",
          "pos",
          "--json",
          ...Object.entries(traceArgs).flatMap(([k, v]) => [
            `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
            v,
          ]),
        ],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      );
    } catch (e) {
      const x = e as { status: number; stdout: string };
      code = x.status;
      out = x.stdout;
    }
    expect(code).toBe(3);
    expect(JSON.parse(out).field55).toBe(TRACE_FIELD55);
  });
});
