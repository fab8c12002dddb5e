/**
 * The virtual SE's own cost per routed APDU (in-memory store), in microseconds: SELECT by AID (full and
 * partial), the PPSE, commands through a store transaction with and without writes, a file read through
 * the file-system helper. Compared with the 300 ms budget of a gate transaction.
 */
import { performance } from "node:perf_hooks";
import { fromHex } from "../src/core/bytes.js";
import { createTestSecureElement, installForTest } from "../src/se/testing/provision.js";
import { fileSamplePackage, samplePackage } from "../src/se/testing/sample-applets.js";
import { fmt, summarise, table } from "./stats.js";

const N = 20_000;

/** Times a synchronous call `n` times after a warm-up; per-call microseconds. */
function timeSync(fn: () => unknown, n = N) {
  for (let i = 0; i < 2_000; i++) fn();
  const t = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    fn();
    t[i] = (performance.now() - s) * 1000;
  }
  return summarise(t);
}

export async function run(): Promise<void> {
  const se = createTestSecureElement({ packages: [samplePackage, fileSamplePackage] });
  // a phone with a dozen cards, so routing searches a realistic registry
  for (let i = 0; i < 10; i++)
    installForTest(se, {
      packageId: "test.applet",
      aid: fromHex(`A0000003330101${(0x10 + i).toString(16).toUpperCase()}`),
      params: { category: "payment", label: `CARD ${i}`, priority: i + 1 },
    });
  installForTest(se, {
    packageId: "test.applet",
    aid: fromHex("A0000006320101051001"),
    params: { category: "transit", writes: 3 },
  });
  installForTest(se, { packageId: "test.files", aid: fromHex("A00000000386980701") });
  se.activate();

  const apdu = (hex: string) => fromHex(hex);
  const selectTransit = apdu("00A404000AA000000632010105100100");
  const selectPartial = apdu("00A4040008A00000063201010500");
  const selectPpse = apdu("00A404000E325041592E5359532E444446303100");
  const selectFiles = apdu("00A4040009A0000000038698070100");
  const count = apdu("8010000004");
  const readCount = apdu("8012000004");
  const readBinary = apdu("00B0950000");

  const rows: [string, ReturnType<typeof summarise>][] = [];
  rows.push(["SELECT by full AID", timeSync(() => se.process(selectTransit))]);
  rows.push(["SELECT by partial AID", timeSync(() => se.process(selectPartial))]);
  rows.push(["SELECT PPSE (12 cards)", timeSync(() => se.process(selectPpse))]);
  se.process(selectTransit);
  rows.push(["command, no store write", timeSync(() => se.process(readCount))]);
  const w0 = se.nvm.writes;
  rows.push(["command, 3 store writes", timeSync(() => se.process(count))]);
  const writesPerCommand = (se.nvm.writes - w0) / (N + 2_000);
  se.process(selectFiles);
  rows.push(["READ BINARY (file helper)", timeSync(() => se.process(readBinary))]);

  table(
    ["routed APDU (in-memory store)", "p50 µs", "p99 µs", "mean µs"],
    rows.map(([name, t]) => [name, fmt(t.p50), fmt(t.p99), fmt(t.mean)]),
  );
  const gate = rows[0]![1].p50 + rows[3]![1].p50 + 6 * rows[4]![1].p50;
  console.log(
    `\n3 store writes = ${writesPerCommand} physical NVM writes (journal 3 + commit + apply 3 + erase).` +
      `\nA gate transaction of ~8 APDUs (SELECT + 7 commands, 6 of them writing) ≈ ${fmt(gate)} µs of SE software = ` +
      `${fmt((gate / 300_000) * 100, 3)} % of the 300 ms budget (aim: < 5 %).`,
  );
}
