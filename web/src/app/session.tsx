/**
 * The signed-in session and the API client built around it. The bearer token lives in localStorage so a
 * reload stays signed in; when the server says the session ended (expired, revoked), the app forgets it
 * and the sign-in screen says why.
 */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiClient, ApiError } from "../api/client.js";
import { createApi, type Api } from "../api/endpoints.js";
import type { AccountView, SignedIn } from "../api/types.js";

const SESSION_STORAGE_KEY = "tapwallet.session";

export interface Session {
  token: string;
  expiresAt: string;
  account: AccountView;
}

function readStored(): Session | undefined {
  try {
    const raw = localStorage.getItem(SESSION_STORAGE_KEY);
    if (!raw) return undefined;
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== "string" || typeof s.expiresAt !== "string" || !s.account) return undefined;
    if (Date.parse(s.expiresAt) <= Date.now()) return undefined;
    return s as Session;
  } catch {
    return undefined;
  }
}

function store(session: Session | undefined): void {
  try {
    if (session) localStorage.setItem(SESSION_STORAGE_KEY, JSON.stringify(session));
    else localStorage.removeItem(SESSION_STORAGE_KEY);
  } catch {
    // Without storage the session lasts for this page only.
  }
}

/** Where the API client reads the bearer token at request time (outside React's render). */
class TokenHolder {
  constructor(private value: string | undefined) {}
  get(): string | undefined {
    return this.value;
  }
  set(value: string | undefined): void {
    this.value = value;
  }
}

export interface SessionState {
  api: Api;
  client: ApiClient;
  session: Session | undefined;
  /** Why the last session ended, when the server ended it. */
  ended: ApiError | undefined;
  signedIn(result: SignedIn): void;
  signOut(): Promise<void>;
  /** Forget the session locally (the server already ended it). */
  expire(error: ApiError): void;
}

const SessionContext = createContext<SessionState | undefined>(undefined);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | undefined>(readStored);
  const [ended, setEnded] = useState<ApiError | undefined>();
  // Every change of session below sets it.
  const [tokens] = useState(() => new TokenHolder(session?.token));

  const expire = useCallback(
    (error: ApiError) => {
      store(undefined);
      tokens.set(undefined);
      setSession(undefined);
      setEnded(error);
    },
    [tokens],
  );

  const client = useMemo(
    () => new ApiClient({ token: () => tokens.get(), onSessionEnded: expire }),
    [expire, tokens],
  );
  const api = useMemo(() => createApi(client), [client]);

  const signedIn = useCallback(
    (r: SignedIn) => {
      const s: Session = { token: r.token, expiresAt: r.expiresAt, account: r.account };
      store(s);
      tokens.set(s.token);
      setEnded(undefined);
      setSession(s);
    },
    [tokens],
  );

  const signOut = useCallback(async () => {
    try {
      await api.accounts.signOut();
    } catch (e) {
      // Signed out locally either way; a network failure leaves the token to expire on the server.
      if (!(e instanceof ApiError)) throw e;
    }
    store(undefined);
    tokens.set(undefined);
    setSession(undefined);
  }, [api, tokens]);

  // A stored session is checked once at start; a dead one ends through onSessionEnded.
  const accountId = session?.account.id;
  useEffect(() => {
    if (!accountId) return;
    api.accounts.me().catch(() => undefined);
  }, [api, accountId]);

  const value = useMemo<SessionState>(
    () => ({ api, client, session, ended, signedIn, signOut, expire }),
    [api, client, session, ended, signedIn, signOut, expire],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error("useSession outside SessionProvider");
  return ctx;
}

/** The session of a screen that only shows when signed in. */
export function useSignedIn(): SessionState & { session: Session } {
  const s = useSession();
  if (!s.session) throw new Error("useSignedIn while signed out");
  return s as SessionState & { session: Session };
}
