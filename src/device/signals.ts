/**
 * What the phone tells its SE (`HostSignals`): whether it is locked (only the express transit card answers
 * the field then) and when the user last verified on it, by fingerprint or passcode — the consumer-device
 * CVM (CDCVM) a bank-card applet checks against its own time window. Time comes from the injected clock.
 */
import type { Clock } from "../core/clock.js";
import type { HostSignals } from "../se/applet.js";

export type VerificationMethod = "fingerprint" | "passcode";
export const VERIFICATION_METHODS: readonly VerificationMethod[] = ["fingerprint", "passcode"];

export interface PhoneSettings {
  locked: boolean;
  verification: { at: string; method: VerificationMethod } | null;
}

export class PhoneSignals implements HostSignals {
  constructor(
    private readonly settings: PhoneSettings,
    private readonly clock: Clock,
    /** Called after every change (the phone saves its state file). */
    private readonly changed: () => void = () => {},
  ) {}

  locked(): boolean {
    return this.settings.locked;
  }

  lastUserVerification(): Date | null {
    const v = this.settings.verification;
    return v ? new Date(v.at) : null;
  }

  get verification(): PhoneSettings["verification"] {
    return this.settings.verification;
  }

  /** The user verified (fingerprint or passcode): a CDCVM for the next payment within the card's window. */
  verify(method: VerificationMethod): Date {
    const at = this.clock.now();
    this.settings.verification = { at: at.toISOString(), method };
    this.changed();
    return at;
  }

  lock(): void {
    this.settings.locked = true;
    this.changed();
  }

  /** Unlocking takes a fingerprint or the passcode, so it is a user verification too. */
  unlock(method: VerificationMethod): Date {
    this.settings.locked = false;
    return this.verify(method);
  }
}
