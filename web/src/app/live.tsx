/**
 * Live updates: the account's notification stream over server-sent events. At start the history is read
 * page by page (`GET /notifications`), then the stream resumes from the last event seen, so nothing falls
 * between the two; a dropped stream reconnects with backoff from its cursor. Screens subscribe to refresh
 * what an event changed (a payment, a top-up, a phone reported lost).
 */
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from "react";
import { ApiError } from "../api/client.js";
import type { NotificationEvent } from "../api/types.js";
import { useSignedIn } from "./session.js";

export type LiveStatus = "connecting" | "live" | "reconnecting";

/** Events kept in memory for the activity screen. */
const KEEP_EVENTS = 200;
/** History pages read at start (100 events each). */
const HISTORY_PAGES = 10;
const MAX_BACKOFF_MS = 15_000;

export interface LiveUpdates {
  status: LiveStatus;
  /** Oldest first, at most KEEP_EVENTS. */
  events: NotificationEvent[];
  /** Hears each event that arrives live (not the history read at start). */
  subscribe(listener: (e: NotificationEvent) => void): () => void;
}

const LiveContext = createContext<LiveUpdates | undefined>(undefined);

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });

export function LiveUpdatesProvider({ children }: { children: ReactNode }) {
  const { api, session, expire } = useSignedIn();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const [events, setEvents] = useState<NotificationEvent[]>([]);
  const listeners = useRef(new Set<(e: NotificationEvent) => void>());
  const token = session.token;

  useEffect(() => {
    const abort = new AbortController();
    const signal = abort.signal;
    const keep = (list: NotificationEvent[]) => list.slice(-KEEP_EVENTS);

    const run = async () => {
      let cursor = 0;
      let history: NotificationEvent[] = [];
      let backoff = 1000;
      while (!signal.aborted) {
        try {
          if (cursor === 0) {
            for (let page = 0; page < HISTORY_PAGES; page++) {
              const r = await api.notifications.list(cursor, 100);
              history = keep([...history, ...r.events]);
              cursor = r.cursor;
              if (r.events.length < 100) break;
            }
            setEvents(history);
          }
          await api.notifications.stream(
            cursor,
            {
              onOpen: () => {
                backoff = 1000;
                setStatus("live");
              },
              onEvent: (e) => {
                if (e.seq <= cursor) return;
                cursor = e.seq;
                setEvents((prev) => keep([...prev, e]));
                for (const l of listeners.current) l(e);
              },
            },
            signal,
          );
        } catch (e) {
          if (e instanceof ApiError && e.status === 401) {
            expire(e);
            return;
          }
        }
        if (signal.aborted) return;
        setStatus("reconnecting");
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    };
    void run();
    return () => abort.abort();
  }, [api, token, expire]);

  const subscribe = useCallback((listener: (e: NotificationEvent) => void) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);

  const value = useMemo<LiveUpdates>(() => ({ status, events, subscribe }), [status, events, subscribe]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
}

export function useLiveUpdates(): LiveUpdates {
  const ctx = useContext(LiveContext);
  if (!ctx) throw new Error("useLiveUpdates outside LiveUpdatesProvider");
  return ctx;
}

/** Calls `onEvent` for each live event whose type starts with `prefix` (or one of several, e.g. "device."). */
export function useLiveEvent(
  prefix: string | readonly string[],
  onEvent: (e: NotificationEvent) => void,
): void {
  const { subscribe } = useLiveUpdates();
  const handler = useRef(onEvent);
  useEffect(() => {
    handler.current = onEvent;
  });
  const key = typeof prefix === "string" ? prefix : prefix.join("\n");
  useEffect(() => {
    const prefixes = key.split("\n");
    return subscribe((e) => {
      if (prefixes.some((p) => e.type.startsWith(p))) handler.current(e);
    });
  }, [subscribe, key]);
}
