/**
 * The TSM's end of one SCP03 session, rebuilt on every request from what the database holds: the SE's
 * static keys, the host challenge, the SE's INITIALIZE UPDATE answer and the plain commands sent so far.
 * SCP03's host side is deterministic (the MAC chain and the encryption counter depend only on those), so
 * replaying the commands yields the same chaining value the SE holds — the server keeps no session state in
 * memory, and any instance can take the next step.
 */
import { type CommandApdu, type ResponseApdu, parseCommand } from "../../core/apdu.js";
import { type Bytes, fromHex } from "../../core/bytes.js";
import { type Result, ok } from "../../core/result.js";
import { type Scp03Keys, SECURITY_LEVEL } from "../../se/scp03.js";
import { HostSession } from "../../se/scp03-host.js";

/** C-MAC, C-DECRYPTION and R-MAC: the SE's answers (its registry, above all) come back authenticated. */
const TSM_SECURITY_LEVEL = SECURITY_LEVEL.C_MAC | SECURITY_LEVEL.C_DECRYPTION | SECURITY_LEVEL.R_MAC;

export class ChannelReplay {
  private constructor(
    private readonly session: HostSession,
    readonly externalAuthenticate: Bytes,
  ) {}

  /** Opens the host side and checks the card cryptogram (the SE holds these keys, for this challenge). */
  static open(keys: Scp03Keys, hostChallenge: Bytes, initializeUpdateAnswer: Bytes): Result<ChannelReplay> {
    const s = HostSession.open(keys, hostChallenge, initializeUpdateAnswer, TSM_SECURITY_LEVEL);
    if (!s.ok) return s;
    return ok(new ChannelReplay(s.value, s.value.externalAuthenticate()));
  }

  /** Wraps the next plain command (hex as stored); the MAC chain moves on. */
  wrap(plainHex: string): Bytes {
    return this.session.wrap(plainCommand(plainHex));
  }

  /** Checks the R-MAC of the answer to the command wrapped last. */
  unwrap(answer: Bytes): Result<ResponseApdu> {
    return this.session.unwrap(answer);
  }
}

/** A command the TSM stored itself (never device input); a stored value that does not parse is a bug. */
function plainCommand(hex: string): CommandApdu {
  const c = parseCommand(fromHex(hex));
  if (!c.ok) throw new Error(`stored command does not parse: ${c.error.reason}`);
  return c.value;
}
