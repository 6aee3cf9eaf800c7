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

const noSubscribe = () => () => {};
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
  if (!iso) return <span className={className}>—</span>;
  return (
    <time
      dateTime={iso}
      title={utcTitle(iso)}
      className={`tabular-nums ${className ?? ""}`}
      suppressHydrationWarning
    >
      {formatTime(iso, tz, seconds)}
    </time>
  );
}
