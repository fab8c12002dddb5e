/**
 * The phone this browser shows. A browser has no secure element, so the phone is one of the account's
 * simulated phones (src/sim, served at /sim/v1): a virtual phone with its own SE, device key and wallet,
 * registered with the account. The app picks which one it shows (remembered per account in localStorage),
 * syncs it at start as a phone does when it wakes up (a phone reported lost hears it then and wipes its
 * cards), and keeps the latest view of it after every action.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { CreatePhoneInput, SimPhone } from "../api/types.js";
import { useLiveEvent } from "../app/live.js";
import { useSignedIn } from "../app/session.js";

export type PhoneStatus = "loading" | "none" | "ready" | "error";

export interface PhoneState {
  status: PhoneStatus;
  /** The phone this browser shows. */
  phone: SimPhone | undefined;
  /** Every simulated phone of the account. */
  phones: SimPhone[];
  error: unknown;
  /** Show another of the account's phones. */
  select(id: string): void;
  create(input: CreatePhoneInput): Promise<SimPhone>;
  /** Re-read the phones (after a change the app did not make through `update`). */
  refresh(): Promise<void>;
  /** Keep a phone's latest view (every simulator answer carries one). */
  update(phone: SimPhone): void;
  /** Forget a phone that was removed. */
  forget(id: string): void;
  /** Sync the shown phone with the cloud (cards installed or deleted by the TSM). */
  sync(): Promise<SimPhone | undefined>;
}

const PhoneContext = createContext<PhoneState | undefined>(undefined);
const storageKey = (accountId: string) => `tapwallet.phone.${accountId}`;

function storedChoice(accountId: string): string | undefined {
  try {
    return localStorage.getItem(storageKey(accountId)) ?? undefined;
  } catch {
    return undefined;
  }
}

export function PhoneProvider({ children }: { children: ReactNode }) {
  const { api, session } = useSignedIn();
  const accountId = session.account.id;
  const [phones, setPhones] = useState<SimPhone[]>([]);
  const [chosen, setChosen] = useState<string | undefined>(() => storedChoice(accountId));
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<unknown>();

  const select = useCallback(
    (id: string) => {
      setChosen(id);
      try {
        localStorage.setItem(storageKey(accountId), id);
      } catch {
        // Without storage the choice lasts for this page only.
      }
    },
    [accountId],
  );

  const update = useCallback((p: SimPhone) => {
    setPhones((list) =>
      list.some((x) => x.id === p.id) ? list.map((x) => (x.id === p.id ? p : x)) : [...list, p],
    );
  }, []);

  const refresh = useCallback(async () => {
    try {
      setPhones(await api.sim.phones());
      setLoaded(true);
      setError(undefined);
    } catch (e) {
      setError(e);
    }
  }, [api]);

  // A phone made or removed elsewhere (another browser, another tab) shows up here too.
  useLiveEvent("device.", () => void refresh());

  const phone = phones.find((p) => p.id === chosen) ?? phones[0];
  const status: PhoneStatus = loaded ? (phone ? "ready" : "none") : error ? "error" : "loading";

  useEffect(() => {
    let live = true;
    api.sim.phones().then(
      async (list) => {
        if (!live) return;
        setPhones(list);
        setLoaded(true);
        const current = list.find((p) => p.id === storedChoice(accountId)) ?? list[0];
        // A phone syncs when it wakes up; a failure (offline) leaves the last view in place.
        if (current) {
          const r = await api.sim.sync(current.id).catch(() => undefined);
          if (live && r) update(r.phone);
        }
      },
      (e: unknown) => {
        if (live) setError(e);
      },
    );
    return () => {
      live = false;
    };
  }, [api, accountId, update]);

  const create = useCallback(
    async (input: CreatePhoneInput) => {
      const made = await api.sim.create(input);
      update(made);
      select(made.id);
      return made;
    },
    [api, update, select],
  );

  const forget = useCallback((id: string) => setPhones((list) => list.filter((p) => p.id !== id)), []);

  const phoneId = phone?.id;
  const sync = useCallback(async () => {
    if (!phoneId) return undefined;
    const r = await api.sim.sync(phoneId);
    update(r.phone);
    return r.phone;
  }, [api, phoneId, update]);

  const value = useMemo<PhoneState>(
    () => ({ status, phone, phones, error, select, create, refresh, update, forget, sync }),
    [status, phone, phones, error, select, create, refresh, update, forget, sync],
  );
  return <PhoneContext.Provider value={value}>{children}</PhoneContext.Provider>;
}

export function usePhone(): PhoneState {
  const ctx = useContext(PhoneContext);
  if (!ctx) throw new Error("usePhone outside PhoneProvider");
  return ctx;
}
