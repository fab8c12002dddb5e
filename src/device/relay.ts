/**
 * The phone as the TSM's relay: it checks each step the cloud sends (untrusted input: a step that does not
 * parse is refused whole, nothing of it reaches the SE), runs the operations on its SE in order over the
 * host interface (OMAPI's basic channel) and returns the answers. It cannot read or forge what it relays:
 * card-manager commands are encrypted and MAC'd for the SE, and the SE's answers carry an R-MAC.
 */
import { parseCommand } from "../core/apdu.js";
import { type Bytes, concat, fromHex, isHex, toHex } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import type { Operation, OperationResult, RegistryAction } from "../protocol/tsm-wire.js";
import { REGISTRY_ACTIONS } from "../protocol/tsm-wire.js";
import type { SecureElement } from "../se/secure-element.js";

const MAX_STEP_OPERATIONS = 256;

/** A step of a sync, as the phone accepts it. */
export type SyncStep =
  | { session: string; step: number; done: false; operations: Operation[] }
  | { session: string; step: number; done: true; summary: unknown };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const SW = /^[0-9A-Fa-f]{4}$/;

function parseOperation(v: unknown, i: number): Result<Operation> {
  if (!isObject(v)) return err(`operation ${i} is not an object`);
  if (v["type"] === "apdu") {
    const apdu = v["apdu"];
    if (typeof apdu !== "string" || !isHex(apdu) || apdu.length < 8 || apdu.length > 2 * 65544)
      return err(`operation ${i}: not a C-APDU`);
    if (!parseCommand(fromHex(apdu)).ok) return err(`operation ${i}: malformed C-APDU`);
    const expect = v["expect"];
    if (expect === undefined) return ok({ type: "apdu", apdu });
    if (
      !Array.isArray(expect) ||
      expect.length > 16 ||
      !expect.every((s) => typeof s === "string" && SW.test(s))
    )
      return err(`operation ${i}: bad expect list`);
    return ok({ type: "apdu", apdu, expect: expect.map((s: string) => s.toUpperCase()) });
  }
  if (v["type"] === "registry") {
    const action = v["action"];
    const aid = v["aid"];
    if (typeof action !== "string" || !REGISTRY_ACTIONS.includes(action as RegistryAction))
      return err(`operation ${i}: unknown registry action`);
    if (typeof aid !== "string" || !isHex(aid) || aid.length < 10 || aid.length > 32)
      return err(`operation ${i}: bad AID`);
    return ok({ type: "registry", action: action as RegistryAction, aid });
  }
  return err(`operation ${i}: unknown type`);
}

/** Checks a step answer from the cloud; never throws. */
export function parseSyncStep(json: unknown): Result<SyncStep> {
  if (!isObject(json)) return err("not an object");
  const { session, step, done } = json;
  if (typeof session !== "string" || session.length === 0 || session.length > 64)
    return err("bad session id");
  if (typeof step !== "number" || !Number.isSafeInteger(step) || step < 1) return err("bad step number");
  if (done === true) {
    if (!isObject(json["summary"])) return err("a finished sync without its summary");
    return ok({ session, step, done: true, summary: json["summary"] });
  }
  if (done !== false) return err("done is not a boolean");
  const operations = json["operations"];
  if (!Array.isArray(operations) || operations.length > MAX_STEP_OPERATIONS) return err("bad operation list");
  const out: Operation[] = [];
  for (const [i, o] of operations.entries()) {
    const r = parseOperation(o, i);
    if (!r.ok) return r;
    out.push(r.value);
  }
  return ok({ session, step, done: false, operations: out });
}

/** At most this many GET RESPONSE rounds for one answer (a 64 KiB answer at 256 bytes a round). */
const MAX_GET_RESPONSE = 256;

/**
 * Sends one C-APDU over the phone's channel to its SE and, like OMAPI, completes a 61XX answer with GET
 * RESPONSE. Returns the whole R-APDU (data ‖ SW), or an empty answer when the SE gave none.
 */
export function transmit(se: SecureElement, apdu: Bytes): Bytes {
  let answer = se.host.transmit(apdu);
  const parts: Bytes[] = [];
  for (let i = 0; i < MAX_GET_RESPONSE && answer.length >= 2 && answer[answer.length - 2] === 0x61; i++) {
    parts.push(answer.subarray(0, answer.length - 2));
    answer = se.host.transmit(Uint8Array.of(0x00, 0xc0, 0x00, 0x00, answer[answer.length - 1]!));
  }
  return parts.length === 0 ? answer : concat(...parts, answer);
}

/** Runs a registry change on the phone's contactless registry. */
export function applyRegistryAction(
  se: SecureElement,
  action: RegistryAction,
  aidHex: string,
): OperationResult {
  const aid = fromHex(aidHex);
  const entry = se.registry.list().find((e) => toHex(e.aid) === toHex(aid));
  if (!entry) return { type: "registry", ok: false, reason: "not_found" };
  let r;
  switch (action) {
    case "activate":
      // One door card for the field at a time: activating one puts the active one to rest.
      if (entry.category === "access")
        for (const other of se.registry.list())
          if (other.category === "access" && other.state === "activated" && toHex(other.aid) !== toHex(aid))
            se.registry.deactivate(other.aid);
      r = se.registry.activate(aid);
      break;
    case "deactivate":
      r = se.registry.deactivate(aid);
      break;
    case "default-payment":
      r = se.registry.setDefaultPayment(aid);
      break;
    case "express-transit":
      r = se.registry.setExpressTransit(aid);
      break;
  }
  return r.ok ? { type: "registry", ok: true } : { type: "registry", ok: false, reason: r.error.reason };
}

/**
 * Runs a step's operations in order. Stops after an APDU whose status word is not in its `expect` list, or
 * that the SE did not answer; registry changes report their own outcome and never stop the step.
 */
export function runOperations(se: SecureElement, operations: readonly Operation[]): OperationResult[] {
  const results: OperationResult[] = [];
  for (const op of operations) {
    if (op.type === "registry") {
      results.push(applyRegistryAction(se, op.action, op.aid));
      continue;
    }
    const answer = transmit(se, fromHex(op.apdu));
    results.push({ type: "apdu", response: toHex(answer) });
    if (answer.length < 2) break;
    const sw = toHex(answer.subarray(answer.length - 2));
    if (op.expect && !op.expect.includes(sw)) break;
  }
  return results;
}
