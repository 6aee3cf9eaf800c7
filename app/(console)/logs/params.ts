import { LOG_EXPORT_MAX_ROWS, SEVERITIES } from "@/db/constants";
import type { Severity } from "@/db/constants";
import type { Mechanism } from "@/server/ingest/event-schema";

// the mechanisms a person picks from, in their words (typed: a new mechanism must be named here)
export const MECHANISM_LABEL: Record<Mechanism, string> = {
  kvm_exit_arm_sea: "KVM exit (arm64 SEA)",
  sigbus: "SIGBUS to the VMM",
  qemu_memory_failure: "QEMU memory-failure",
};
const MECHANISMS = Object.keys(MECHANISM_LABEL) as Mechanism[];

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
  q?: string;
  mechanism?: Mechanism;
  consumed?: "true" | "false";
  address?: string;
  range: RangeKey;
  since?: string;
  until?: string;
  entry?: string;
};

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ADDRESS = /^0x[0-9a-fA-F]{1,16}$/;

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
  const q = one("q")?.trim().slice(0, 200);
  const mechanism = MECHANISMS.find((m) => m === one("mechanism"));
  const consumed = one("consumed");
  const address = one("address");
  return {
    ...(project && ID.test(project) ? { project } : {}),
    ...(vm && ID.test(vm) ? { vm } : {}),
    ...(severity ? { severity } : {}),
    ...(q ? { q } : {}),
    ...(mechanism ? { mechanism } : {}),
    ...(consumed === "true" || consumed === "false" ? { consumed } : {}),
    ...(address && ADDRESS.test(address) ? { address } : {}),
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
  if (f.q) p.set("q", f.q);
  if (f.mechanism) p.set("mechanism", f.mechanism);
  if (f.consumed) p.set("consumed", f.consumed);
  if (f.address) p.set("address", f.address);
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

// The rows of a view at a moment in time, as the services take them: relative ranges become
// absolute here (on the server), and the client gets this exact input so both share one query key.
export function logViewFilters(f: LogFilters, at: Date) {
  const since =
    f.range in RANGES
      ? new Date(
          at.getTime() - RANGES[f.range as keyof typeof RANGES] * 1000,
        ).toISOString()
      : f.since;
  const until = f.range === "custom" ? f.until : undefined;
  return {
    ...(f.project ? { projectId: f.project } : {}),
    ...(f.vm ? { vmId: f.vm } : {}),
    ...(f.severity ? { severity: f.severity } : {}),
    ...(f.q ? { q: f.q } : {}),
    ...(f.mechanism ? { mechanism: f.mechanism } : {}),
    ...(f.consumed ? { consumed: f.consumed } : {}),
    ...(f.address ? { address: f.address } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
}
export type LogViewFilters = ReturnType<typeof logViewFilters>;

export function logListInput(f: LogFilters, at: Date) {
  return { limit: LOG_PAGE_SIZE, ...logViewFilters(f, at) };
}
export type LogListInput = ReturnType<typeof logListInput>;

// The chart spans the same range up to `at`, so its bars and the list agree.
export function logHistogramInput(f: LogFilters, at: Date) {
  const v = logViewFilters(f, at);
  return { ...v, until: v.until ?? at.toISOString() };
}

// The download of a view: its filters in the query string of /logs/export.
export function exportHref(v: LogViewFilters, format: "csv" | "ndjson") {
  const p = new URLSearchParams({ ...v, format });
  return `/logs/export?${p.toString()}`;
}

export const EXPORT_MAX_ROWS = LOG_EXPORT_MAX_ROWS;
