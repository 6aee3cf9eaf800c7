import { SEVERITIES } from "@/db/constants";
import type { Severity } from "@/db/constants";

// The logs explorer's state lives in the query string, so every view is a link.
export const RANGES = {
  "1h": 3600,
  "24h": 86400,
  "7d": 7 * 86400,
  "30d": 30 * 86400,
} as const;
export type RangeKey = keyof typeof RANGES | "all" | "custom";

export type LogFilters = {
  project?: string;
  vm?: string;
  severity?: Severity;
  range: RangeKey;
  since?: string;
  until?: string;
  entry?: string;
};

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function iso(v: unknown): string | undefined {
  if (typeof v !== "string" || !v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function parseLogFilters(
  sp: Record<string, string | string[] | undefined>,
): LogFilters {
  const one = (k: string) =>
    typeof sp[k] === "string" ? (sp[k] as string) : undefined;
  const project = one("project");
  const vm = one("vm");
  const severity = SEVERITIES.find((s) => s === one("severity"));
  const since = iso(one("since"));
  const until = iso(one("until"));
  const r = one("range");
  const range: RangeKey =
    r && (r in RANGES || r === "all")
      ? (r as RangeKey)
      : since || until
        ? "custom"
        : "7d";
  const entry = one("entry");
  return {
    ...(project && ID.test(project) ? { project } : {}),
    ...(vm && ID.test(vm) ? { vm } : {}),
    ...(severity ? { severity } : {}),
    range,
    ...(range === "custom" && since ? { since } : {}),
    ...(range === "custom" && until ? { until } : {}),
    ...(entry && entry.length <= 64 ? { entry } : {}),
  };
}

export function filtersToSearch(f: LogFilters): string {
  const p = new URLSearchParams();
  if (f.project) p.set("project", f.project);
  if (f.vm) p.set("vm", f.vm);
  if (f.severity) p.set("severity", f.severity);
  if (f.range !== "7d" && f.range !== "custom") p.set("range", f.range);
  if (f.range === "custom") {
    if (f.since) p.set("since", f.since);
    if (f.until) p.set("until", f.until);
  }
  if (f.entry) p.set("entry", f.entry);
  const s = p.toString();
  return s ? `?${s}` : "";
}

export const LOG_PAGE_SIZE = 50;

// The list query for a moment in time: relative ranges become absolute here (on the server),
// and the client gets this exact input so both share one query key.
export function logListInput(f: LogFilters, at: Date) {
  const since =
    f.range in RANGES
      ? new Date(
          at.getTime() - RANGES[f.range as keyof typeof RANGES] * 1000,
        ).toISOString()
      : f.since;
  return {
    limit: LOG_PAGE_SIZE,
    ...(f.project ? { projectId: f.project } : {}),
    ...(f.vm ? { vmId: f.vm } : {}),
    ...(f.severity ? { severity: f.severity } : {}),
    ...(since ? { since } : {}),
    ...(f.range === "custom" && f.until ? { until: f.until } : {}),
  };
}
export type LogListInput = ReturnType<typeof logListInput>;
