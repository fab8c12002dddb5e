/**
 * The e-purse commands the cloud asks a phone to run on its transit applet (the phone relays them through
 * its SE's host interface and hands back the answers), and the checks on what comes back.
 *
 * A step is a list of operations in the TSM's wire format (`{type: "apdu", apdu, expect}`, src/protocol/tsm-wire.ts), so
 * the phone runs them with the same relay (src/device/relay.ts `runOperations`): the first operation is the
 * SELECT of the card's instance, and the phone stops at the first answer whose status word is not in
 * `expect`. Results are the R-APDUs (data ‖ SW, hex), one per operation run. Nothing the phone says is
 * believed unless a MAC the card made with its own keys covers it (MAC1, TAC); status words and plain data
 * are hints at most.
 */
import { type CommandApdu, commandHex, parseResponse } from "../../core/apdu.js";
import { type Bytes, concat, fromHex, isHex, uintBE } from "../../core/bytes.js";
import { SW } from "../../core/sw.js";
import { TxType } from "../../transit/index.js";
import type { Operation, OperationResult } from "../../protocol/tsm-wire.js";

/** The key index our cards are personalised with (src/transit/card/personalisation.ts DEFAULT_KEY_INDEX). */
const KEY_INDEX = 0x01;
/** SFI of the transaction records (EF18) and how many a card keeps. */
const RECORDS_SFI = 0x18;
export const RECORD_COUNT = 10;

export type CardOperation = Extract<Operation, { type: "apdu" }>;

const op = (c: CommandApdu, ...expect: number[]): CardOperation => ({
  type: "apdu",
  apdu: commandHex(c),
  expect: expect.map((sw) => sw.toString(16).toUpperCase().padStart(4, "0")),
});

export const cardOps = {
  select: (aid: string) =>
    op({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: fromHex(aid), ne: 256 }, SW.OK),
  /** GET TRANSACTION PROVE for the load that takes the online counter to `atcAfter`. */
  proveLoad: (atcAfter: number) =>
    op(
      { cla: 0x80, ins: 0x5a, p1: 0x00, p2: TxType.EP_LOAD, data: uintBE(atcAfter, 2), ne: 8 },
      SW.OK,
      SW.MAC_NOT_AVAILABLE,
    ),
  readRecord: (n: number) =>
    op(
      { cla: 0x00, ins: 0xb2, p1: n, p2: (RECORDS_SFI << 3) | 0x04, data: new Uint8Array(0), ne: 256 },
      SW.OK,
      SW.RECORD_NOT_FOUND,
    ),
  /** INITIALIZE FOR PURCHASE of nothing: its answer carries the offline counter (ends the session at once). */
  initPurchase: (terminal: Bytes) =>
    op(
      {
        cla: 0x80,
        ins: 0x50,
        p1: 0x01,
        p2: 0x02,
        data: concat(Uint8Array.of(KEY_INDEX), uintBE(0, 4), terminal),
        ne: 15,
      },
      SW.OK,
      SW.INSUFFICIENT_BALANCE,
    ),
  /** INITIALIZE FOR LOAD; `probe` also accepts 6A80 (the card is at its maximum balance). */
  initLoad: (amount: number, terminal: Bytes, probe: boolean) =>
    op(
      {
        cla: 0x80,
        ins: 0x50,
        p1: 0x00,
        p2: 0x02,
        data: concat(Uint8Array.of(KEY_INDEX), uintBE(amount, 4), terminal),
        ne: 16,
      },
      ...(probe ? [SW.OK, SW.WRONG_DATA] : [SW.OK]),
    ),
  credit: (date4: Bytes, time3: Bytes, mac2: Bytes) =>
    op({ cla: 0x80, ins: 0x52, p1: 0x00, p2: 0x00, data: concat(date4, time3, mac2), ne: 4 }, SW.OK),
};

export interface Answer {
  data: Bytes;
  sw: number;
}

/** The phone's results, each checked to be an APDU answer with a status word; anything else is absent. */
export function parseAnswers(results: readonly OperationResult[]): (Answer | undefined)[] {
  return results.map((res) => {
    if (res.type !== "apdu" || !isHex(res.response)) return undefined;
    const r = parseResponse(fromHex(res.response));
    return r.ok ? r.value : undefined;
  });
}
