"use client";
import {
  createContext,
  useContext,
  useEffect,
  useSyncExternalStore,
} from "react";

// Times are shown in the viewer's time zone, UTC on hover. The server renders in the zone the
// browser reported last time (a cookie), so the first paint is already right for a returning viewer.
const ServerTimeZone = createContext("UTC");

// useSyncExternalStore for what never changes once read (the browser's time zone, being hydrated)
export const noSubscribe = () => () => {};
const browserTimeZone = () =>
  Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export function useTimeZone(): string {
  const server = useContext(ServerTimeZone);
  return useSyncExternalStore(noSubscribe, browserTimeZone, () => server);
}

export function TimeZoneProvider({
  serverTimeZone,
  children,
}: {
  serverTimeZone: string;
  children: React.ReactNode;
}) {
  useEffect(() => {
    const tz = browserTimeZone();
    if (tz !== serverTimeZone)
      document.cookie = `pw_tz=${encodeURIComponent(tz)}; path=/; max-age=31536000; samesite=lax`;
  }, [serverTimeZone]);
  return (
    <ServerTimeZone.Provider value={serverTimeZone}>
      {children}
    </ServerTimeZone.Provider>
  );
}

const formats = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string, withSeconds: boolean): Intl.DateTimeFormat {
  const key = `${tz}|${withSeconds}`;
  let f = formats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone: tz,
      year: "numeric",
      month: "short",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      ...(withSeconds ? { second: "2-digit" } : {}),
      hour12: false,
      timeZoneName: "short",
    });
    formats.set(key, f);
  }
  return f;
}

export function formatTime(
  iso: string,
  tz: string,
  withSeconds = true,
): string {
  return formatter(tz, withSeconds).format(new Date(iso));
}

export function utcTitle(iso: string): string {
  return `${iso
    .replace("T", " ")
    .replace(/\.\d{3}Z$/, "")
    .replace(/Z$/, "")} UTC`;
}

// One clock for every time on the page: now, rounded up to 15 s steps (the same value for every time
// shown within a step, never stale after a quiet spell), re-rendered every 15 s while one is shown.
const STEP_MS = 15_000;
const listeners = new Set<() => void>();
let ticker: ReturnType<typeof setInterval> | undefined;
function subscribeNow(cb: () => void) {
  listeners.add(cb);
  if (!ticker)
    ticker = setInterval(() => {
      for (const l of listeners) l();
    }, STEP_MS);
  return () => {
    listeners.delete(cb);
    if (!listeners.size && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };
}
const nowSnapshot = () => Math.ceil(Date.now() / STEP_MS) * STEP_MS;

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 31_557_600],
  ["month", 2_629_800],
  ["day", 86_400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

// "12 seconds ago", "in 5 minutes", "yesterday": the distance from now, in the largest whole unit.
export function relativeTime(iso: string, now: number): string {
  const s = (Date.parse(iso) - now) / 1000;
  if (Math.abs(s) < 5) return "just now";
  const [unit, size] = UNITS.find(([, n]) => Math.abs(s) >= n) ?? UNITS[5]!;
  return relative.format(Math.trunc(s / size), unit);
}

// The console's one way to show a time: how long ago (or until), the exact time in the viewer's
// zone and in UTC on hover and for screen readers' "title".
export function LocalTime({
  iso,
  seconds = true,
  className,
}: {
  iso: string | null;
  seconds?: boolean;
  className?: string;
}) {
  const tz = useTimeZone();
  const now = useSyncExternalStore(subscribeNow, nowSnapshot, nowSnapshot);
  if (!iso) return <span className={className}>—</span>;
  return (
    <time
      dateTime={iso}
      title={`${formatTime(iso, tz, seconds)} · ${utcTitle(iso)}`}
      className={`tabular-nums ${className ?? ""}`}
      suppressHydrationWarning
    >
      {relativeTime(iso, now)}
    </time>
  );
}
