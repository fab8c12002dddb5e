/**
 * This browser as a phone bound to the signed-in account. `register` makes a device key and an SE id and
 * binds them (the cloud refuses unsupported models and regions outside mainland China, saying why);
 * `checkIn` is the phone's signed periodic contact, made at start: a phone reported lost wipes itself,
 * and a phone removed from the account forgets its binding.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError, type DeviceCredentials } from "../api/client.js";
import type { DeviceView } from "../api/types.js";
import { useSignedIn } from "../app/session.js";
import {
  cryptoAvailable,
  forgetPhone,
  generateDeviceKey,
  loadPhone,
  newSeId,
  savePhone,
  webCryptoSigner,
  type LocalPhone,
} from "./device-key.js";

export const APP_VERSION = "web-0.1.0";

export type PhoneStatus = "loading" | "unbound" | "bound" | "no-crypto";

/** Why the binding was dropped at the last contact. */
export type PhoneNotice = "wiped-lost" | "removed";

export interface RegisterInput {
  model: string;
  region: string;
  name?: string;
}

export interface PhoneState {
  status: PhoneStatus;
  phone: LocalPhone | undefined;
  notice: PhoneNotice | undefined;
  dismissNotice(): void;
  register(input: RegisterInput): Promise<DeviceView>;
  checkIn(): Promise<void>;
  /** Drop the local binding (after this phone was removed from the account). */
  forget(): Promise<void>;
  /** Signing credentials for device calls; undefined while unbound. */
  credentials(): DeviceCredentials | undefined;
}

const PhoneContext = createContext<PhoneState | undefined>(undefined);

const GONE = new Set(["device_removed", "unknown_device"]);

export function PhoneProvider({ children }: { children: ReactNode }) {
  const { api, session } = useSignedIn();
  const accountId = session.account.id;
  const [status, setStatus] = useState<PhoneStatus>(cryptoAvailable() ? "loading" : "no-crypto");
  const [phone, setPhone] = useState<LocalPhone | undefined>();
  const [notice, setNotice] = useState<PhoneNotice | undefined>();

  const drop = useCallback(
    async (why?: PhoneNotice) => {
      await forgetPhone(accountId);
      setPhone(undefined);
      setStatus("unbound");
      setNotice(why);
    },
    [accountId],
  );

  const contact = useCallback(
    async (local: LocalPhone) => {
      try {
        const { device } = await api.device.checkIn(
          { signer: webCryptoSigner(local.privateKey), deviceId: local.deviceId },
          APP_VERSION,
        );
        if (device.lost) {
          // The owner reported this phone lost: wipe what it holds (its binding; its cards with it).
          await drop("wiped-lost");
          return;
        }
        const updated = { ...local, device };
        await savePhone(updated);
        setPhone(updated);
      } catch (e) {
        if (e instanceof ApiError && GONE.has(e.code)) await drop("removed");
        else throw e;
      }
    },
    [api, drop],
  );

  useEffect(() => {
    if (!cryptoAvailable()) return;
    let live = true;
    loadPhone(accountId).then(
      (local) => {
        if (!live) return;
        setPhone(local);
        setStatus(local ? "bound" : "unbound");
        // Check-in failures (offline) leave the stored view in place; the next start tries again.
        if (local) contact(local).catch(() => undefined);
      },
      () => live && setStatus("unbound"),
    );
    return () => {
      live = false;
    };
  }, [accountId, contact]);

  const register = useCallback(
    async (input: RegisterInput) => {
      const key = await generateDeviceKey();
      const seId = newSeId();
      const device = await api.devices.bind(
        {
          model: input.model,
          region: input.region,
          publicKey: key.publicKey,
          seId,
          ...(input.name ? { name: input.name } : {}),
        },
        { signer: webCryptoSigner(key.privateKey) },
      );
      const local: LocalPhone = { accountId, deviceId: device.id, seId, privateKey: key.privateKey, device };
      await savePhone(local);
      setPhone(local);
      setStatus("bound");
      setNotice(undefined);
      return device;
    },
    [api, accountId],
  );

  const value = useMemo<PhoneState>(
    () => ({
      status,
      phone,
      notice,
      dismissNotice: () => setNotice(undefined),
      register,
      checkIn: async () => {
        if (phone) await contact(phone);
      },
      forget: () => drop(),
      credentials: () =>
        phone ? { signer: webCryptoSigner(phone.privateKey), deviceId: phone.deviceId } : undefined,
    }),
    [status, phone, notice, register, contact, drop],
  );
  return <PhoneContext.Provider value={value}>{children}</PhoneContext.Provider>;
}

export function usePhone(): PhoneState {
  const ctx = useContext(PhoneContext);
  if (!ctx) throw new Error("usePhone outside PhoneProvider");
  return ctx;
}
