/**
 * The off-card (host / TSM) side of SCP03: given an SE's static keys and its answer to INITIALIZE UPDATE,
 * open the secure channel and protect every command of a script. It only produces and consumes APDUs; it
 * knows nothing of the SE's internals, so the cloud's TSM uses it as is.
 *
 * A provisioning round trip: the device selects the ISD and sends `initializeUpdateCommand(hostChallenge)`;
 * the TSM calls `buildScript(keys, hostChallenge, answer, commands)` and the device relays the returned APDUs
 * (EXTERNAL AUTHENTICATE first). `runSecureScript` does the whole exchange over any `transmit` function.
 */
import {
  type CommandApdu,
  type ResponseApdu,
  command,
  encodeCommand,
  parseResponse,
  response,
} from "../core/apdu.js";
import { type Bytes, equalConstantTime, toHex } from "../core/bytes.js";
import { type Result, err, ok } from "../core/result.js";
import { SW } from "../core/sw.js";
import type { Json } from "./applet.js";
import {
  type Dgi,
  GP_INS,
  ISD_AID,
  deleteCommand,
  installForInstallCommand,
  installForPersonalizationCommand,
  selectByAid,
  storeDataCommands,
} from "./gp.js";
import {
  type InitializeUpdateResponse,
  SECURITY_LEVEL,
  type Scp03Keys,
  SecureChannel,
  VALID_SECURITY_LEVELS,
  cardCryptogram,
  deriveSessionKeys,
  hostCryptogram,
  parseInitializeUpdateResponse,
} from "./scp03.js";

/** C-MAC + C-DECRYPTION: what card content management requires. */
const DEFAULT_SECURITY_LEVEL = SECURITY_LEVEL.C_MAC | SECURITY_LEVEL.C_DECRYPTION;

export const initializeUpdateCommand = (hostChallenge: Bytes, keyVersion = 0): CommandApdu =>
  command(0x80, GP_INS.INITIALIZE_UPDATE, keyVersion, 0x00, hostChallenge, 256);

/** An open (host side) secure channel session. */
export class HostSession {
  private constructor(
    private readonly channel: SecureChannel,
    /** The card's INITIALIZE UPDATE answer, parsed (diversification data identifies the SE). */
    readonly card: InitializeUpdateResponse,
    private readonly cryptogram: Bytes,
  ) {}

  /**
   * Checks the card cryptogram of an INITIALIZE UPDATE answer (data, with or without its 9000) against the
   * static keys; a card holding other keys, or an answer to another host challenge, is refused.
   */
  static open(
    keys: Scp03Keys,
    hostChallenge: Bytes,
    initializeUpdateAnswer: Bytes,
    securityLevel = DEFAULT_SECURITY_LEVEL,
  ): Result<HostSession> {
    if (!VALID_SECURITY_LEVELS.includes(securityLevel))
      return err(`security level ${securityLevel} is not valid`);
    if (hostChallenge.length !== 8) return err("the host challenge is 8 bytes");
    let data = initializeUpdateAnswer;
    if (data.length === 31 || data.length === 34) {
      const r = parseResponse(data);
      if (!r.ok || r.value.sw !== SW.OK) return err(`INITIALIZE UPDATE failed`);
      data = r.value.data;
    }
    const card = parseInitializeUpdateResponse(data);
    if (!card.ok) return card;
    if (card.value.keyVersion !== keys.version)
      return err(
        `the card uses key version ${card.value.keyVersion}, these keys are version ${keys.version}`,
      );
    const sk = deriveSessionKeys(keys, hostChallenge, card.value.cardChallenge);
    if (
      !equalConstantTime(
        cardCryptogram(sk.sMac, hostChallenge, card.value.cardChallenge),
        card.value.cardCryptogram,
      )
    )
      return err("card cryptogram mismatch: not the card these keys belong to");
    const channel = new SecureChannel(sk, securityLevel);
    return ok(
      new HostSession(channel, card.value, hostCryptogram(sk.sMac, hostChallenge, card.value.cardChallenge)),
    );
  }

  /** EXTERNAL AUTHENTICATE (send it first; it starts the MAC chain). */
  externalAuthenticate(): Bytes {
    const ea = command(0x80, GP_INS.EXTERNAL_AUTHENTICATE, this.channel.securityLevel, 0x00, this.cryptogram);
    return encodeCommand(this.channel.wrap(ea, { encrypt: false }));
  }

  /** Protects the next command of the script (C-MAC, C-DECRYPTION per the level). */
  wrap(c: CommandApdu): Bytes {
    return encodeCommand(this.channel.wrap(c));
  }

  /** Checks (R-MAC) and deciphers (R-ENC) the answer to the last wrapped command. */
  unwrap(answer: Bytes): Result<ResponseApdu> {
    const r = parseResponse(answer);
    if (!r.ok) return r;
    return this.channel.unwrapResponse(r.value);
  }
}

/** EXTERNAL AUTHENTICATE followed by every command of `commands`, protected, in order. */
export function buildScript(
  keys: Scp03Keys,
  hostChallenge: Bytes,
  initializeUpdateAnswer: Bytes,
  commands: readonly CommandApdu[],
  securityLevel = DEFAULT_SECURITY_LEVEL,
): Result<Bytes[]> {
  const s = HostSession.open(keys, hostChallenge, initializeUpdateAnswer, securityLevel);
  if (!s.ok) return s;
  return ok([s.value.externalAuthenticate(), ...commands.map((c) => s.value.wrap(c))]);
}

// ---- the usual scripts ------------------------------------------------------------------------------

export interface InstallScript {
  packageId: string;
  aid: Bytes;
  params?: Json;
  /** 0, 1 or 3 bytes (default none). */
  privileges?: Bytes;
  /** Personalisation data sent with STORE DATA right after the installation. */
  personalization?: readonly Dgi[];
}

/** INSTALL [for install and make selectable], then INSTALL [for personalization] + STORE DATA if any. */
export function installCommands(s: InstallScript): CommandApdu[] {
  const out = [
    installForInstallCommand({
      packageId: s.packageId,
      aid: s.aid,
      params: s.params ?? null,
      privileges: s.privileges ?? new Uint8Array(0),
    }),
  ];
  if (s.personalization) out.push(...personalizationCommands(s.aid, s.personalization));
  return out;
}

export function personalizationCommands(aid: Bytes, dgis: readonly Dgi[]): CommandApdu[] {
  return [installForPersonalizationCommand(aid), ...storeDataCommands(dgis)];
}

export const deleteCommands = (aid: Bytes): CommandApdu[] => [deleteCommand(aid)];

/** The failure of a script step: which command, and the status word (0 when the answer was unusable). */
export interface ScriptError {
  step: string;
  sw: number;
  reason: string;
}

/**
 * Runs a script over `transmit` (the device's channel to its SE): SELECT ISD, INITIALIZE UPDATE,
 * EXTERNAL AUTHENTICATE, then each command; stops at the first status word other than 9000.
 */
export function runSecureScript(
  transmit: (apdu: Bytes) => Bytes,
  keys: Scp03Keys,
  commands: readonly CommandApdu[],
  options: { hostChallenge: Bytes; securityLevel?: number },
): Result<ResponseApdu[], ScriptError> {
  const send = (step: string, apdu: Bytes): Result<ResponseApdu, ScriptError> => {
    const r = parseResponse(transmit(apdu));
    if (!r.ok) return err({ step, sw: 0, reason: "no answer from the SE" });
    return r.value.sw === SW.OK
      ? ok(r.value)
      : err({
          step,
          sw: r.value.sw,
          reason: `the SE answered ${toHex(Uint8Array.of(r.value.sw >> 8, r.value.sw & 0xff))}`,
        });
  };
  const selected = send("SELECT ISD", encodeCommand(selectByAid(ISD_AID)));
  if (!selected.ok) return selected;
  const iu = send(
    "INITIALIZE UPDATE",
    encodeCommand(initializeUpdateCommand(options.hostChallenge, keys.version)),
  );
  if (!iu.ok) return iu;
  const session = HostSession.open(keys, options.hostChallenge, iu.value.data, options.securityLevel);
  if (!session.ok) return err({ step: "INITIALIZE UPDATE", sw: SW.OK, reason: session.error });
  const ea = send("EXTERNAL AUTHENTICATE", session.value.externalAuthenticate());
  if (!ea.ok) return ea;
  const answers: ResponseApdu[] = [];
  for (const c of commands) {
    const step = `${c.ins.toString(16).toUpperCase()} command ${answers.length + 1}`;
    const raw = transmit(session.value.wrap(c));
    const r = session.value.unwrap(raw);
    if (!r.ok) return err({ step, sw: 0, reason: r.error });
    if (r.value.sw !== SW.OK) return err({ step, sw: r.value.sw, reason: "refused" });
    answers.push(response(r.value.sw, r.value.data));
  }
  return ok(answers);
}
