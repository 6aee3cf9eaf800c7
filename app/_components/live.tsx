"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { LIVE_POLL_MS } from "./live-poll";
import { noSubscribe } from "./time";

// Live console: every open tab polls a cheap fingerprint of the tenant's incidents and evacuations
// (incident.stamp) every few seconds and refetches what it shows only when that changed. Polling
// stops while the tab is hidden (TanStack Query pauses refetchInterval then) and resumes, with an
// immediate check, when it is shown again.

// what a change of the stamp can change on screen
const LIVE_ROUTERS = ["incident", "vm", "logEntry"];

// The poll's options: one observer (LiveProvider) polls; LiveStatus only reads the same query.
function useStampQuery(poll: boolean) {
  const trpc = useTRPC();
  return useQuery({
    ...trpc.incident.stamp.queryOptions(),
    enabled: poll,
    refetchInterval: LIVE_POLL_MS,
    refetchIntervalInBackground: false,
    refetchOnWindowFocus: "always",
    staleTime: 0,
  });
}

// LiveProvider renders its children unchanged and provides no context: a context value that
// changed while a page's Suspense boundary was still streaming in (the poll's first answer can
// arrive first) would make React drop the server's HTML for that boundary and render it again on
// the client, the server's copy left hidden beside it until the stream ends. Whatever shows the
// poll's state reads the query itself (LiveStatus).
export function LiveProvider({ children }: { children: React.ReactNode }) {
  const queryClient = useQueryClient();
  const stamp = useStampQuery(true);
  const last = useRef<string | null>(null);
  const current = stamp.data?.stamp ?? null;
  useEffect(() => {
    if (current === null) return;
    if (last.current !== null && last.current !== current) {
      // tRPC query keys start with the procedure path, e.g. ["incident", "list"]
      void queryClient.invalidateQueries({
        predicate: (q) => {
          const path = q.queryKey[0];
          if (!Array.isArray(path)) return false;
          return (
            LIVE_ROUTERS.includes(String(path[0])) &&
            !(path[0] === "incident" && path[1] === "stamp")
          );
        },
      });
    }
    last.current = current;
  }, [current, queryClient]);
  return children;
}

// false while React hydrates the server's HTML (and on the server), true from then on: what only the
// browser knows is shown after hydration, so the HTML the server sent is hydrated as it is.
export function useHydrated(): boolean {
  return useSyncExternalStore(
    noSubscribe,
    () => true,
    () => false,
  );
}

// The current time, re-read every `ms` (a countdown, "n s ago").
export function useNow(ms = 1000): number {
  const [t, setT] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setT(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return t;
}

export function agoText(seconds: number): string {
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  return `${Math.floor(seconds / 3600)} h ago`;
}

// "Live · updated 2 s ago": how fresh the page is.
export function LiveStatus() {
  const stamp = useStampQuery(false);
  // hydrated as the server rendered it ("Connecting…"), then the poll's state
  const hydrated = useHydrated();
  const syncedAt = hydrated ? stamp.dataUpdatedAt : 0;
  const failing = hydrated && stamp.isError;
  const now = useNow(1000);
  const seconds = syncedAt
    ? Math.max(0, Math.floor((now - syncedAt) / 1000))
    : null;
  const stale = failing || seconds === null || seconds > 30;
  return (
    <p
      className="inline-flex items-center gap-1.5 text-xs text-slate-600 dark:text-slate-300"
      data-testid="live-status"
    >
      <span
        aria-hidden
        className={`h-2 w-2 rounded-full ${stale ? "bg-slate-400" : "bg-emerald-500"}`}
      />
      <span suppressHydrationWarning>
        {seconds === null
          ? "Connecting…"
          : `${failing ? "Reconnecting · " : "Live · "}updated ${agoText(seconds)}`}
      </span>
    </p>
  );
}
