"use client";
import {
  useQuery,
  useSuspenseInfiniteQuery,
  useSuspenseQuery,
} from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import { SEVERITIES } from "@/db/constants";
import { useTRPC } from "@/app/_trpc/client";
import { CopyButton } from "@/app/_components/copy-button";
import { LogEntryList, LogEntryRow } from "@/app/_components/log-entry-list";
import { formatTime, LocalTime, useTimeZone } from "@/app/_components/time";
import { byNextCursor } from "@/app/_components/types";
import {
  Card,
  EmptyState,
  inputClass,
  LoadMore,
  primaryButton,
  secondaryButton,
} from "@/app/_components/ui";
import type {
  LogFilters,
  LogListInput,
  LogViewFilters,
  RangeKey,
} from "./params";
import {
  EXPORT_MAX_ROWS,
  exportHref,
  filtersToSearch,
  MECHANISM_LABEL,
  RANGES,
} from "./params";

const RANGE_LABEL: Record<RangeKey, string> = {
  "1h": "Last hour",
  "24h": "Last 24 hours",
  "7d": "Last 7 days",
  "30d": "Last 30 days",
  all: "All time",
  custom: "Custom range",
};

// <input type="datetime-local"> works in the browser's zone: convert both ways.
function toLocalInput(iso: string | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const off = d.getTimezoneOffset() * 60_000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}
function fromLocalInput(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function LogFiltersForm({ filters }: { filters: LogFilters }) {
  const trpc = useTRPC();
  const { data: choices } = useSuspenseQuery(
    trpc.logEntry.filters.queryOptions(),
  );
  const router = useRouter();
  const pathname = usePathname();
  const [pending, startTransition] = useTransition();
  const [since, setSince] = useState(toLocalInput(filters.since));
  const [until, setUntil] = useState(toLocalInput(filters.until));
  const [text, setText] = useState(filters.q ?? "");
  const [address, setAddress] = useState(filters.address ?? "");
  const ids = {
    q: useId(),
    mechanism: useId(),
    consumed: useId(),
    address: useId(),
    project: useId(),
    vm: useId(),
    severity: useId(),
    range: useId(),
    since: useId(),
    until: useId(),
  };

  const go = (next: LogFilters) =>
    startTransition(() => {
      router.push(
        `${pathname}${filtersToSearch({ ...next, entry: undefined })}`,
        { scroll: false },
      );
    });
  const set = (patch: Partial<LogFilters>) => go({ ...filters, ...patch });
  const vms = choices.vms.filter(
    (v) => !filters.project || v.projectId === filters.project,
  );

  // a permalink that keeps meaning the same thing: relative ranges become absolute times
  const permalink = () => {
    let f: LogFilters = { ...filters, entry: undefined };
    if (filters.range in RANGES) {
      const to = new Date();
      const from = new Date(
        to.getTime() - RANGES[filters.range as keyof typeof RANGES] * 1000,
      );
      f = {
        ...f,
        range: "custom",
        since: from.toISOString(),
        until: to.toISOString(),
      };
    }
    return `${window.location.origin}${pathname}${filtersToSearch(f)}`;
  };

  const label =
    "mb-1 block text-xs font-medium text-slate-700 dark:text-slate-300";
  return (
    <Card>
      <form
        aria-label="Log filters"
        aria-busy={pending}
        // two filters a row even on a phone, so the entries are not a whole screen below the form
        className="grid grid-cols-2 gap-3 p-4 lg:grid-cols-3 xl:grid-cols-6 [&>div]:min-w-0"
        onSubmit={(e) => {
          e.preventDefault();
          const addr = address.trim();
          set({
            q: text.trim() || undefined,
            address: /^0x[0-9a-fA-F]{1,16}$/.test(addr) ? addr : undefined,
            ...(filters.range === "custom"
              ? {
                  since: fromLocalInput(since),
                  until: fromLocalInput(until),
                }
              : {}),
          });
        }}
      >
        <div className="col-span-full flex flex-wrap items-end gap-2">
          <div className="min-w-0 flex-1 basis-64">
            <label htmlFor={ids.q} className={label}>
              Search messages and fields
            </label>
            <input
              id={ids.q}
              type="search"
              name="q"
              className={`${inputClass} w-full`}
              value={text}
              maxLength={200}
              placeholder='e.g. uncorrectable, db-1, "page unmapped", -warning'
              onChange={(e) => setText(e.target.value)}
            />
          </div>
          <div className="basis-52">
            <label htmlFor={ids.address} className={label}>
              Address (gpa or gva)
            </label>
            <input
              id={ids.address}
              name="address"
              className={`${inputClass} w-full font-mono`}
              value={address}
              maxLength={18}
              pattern="0x[0-9a-fA-F]{1,16}"
              title="A hex address such as 0x1234f8000"
              placeholder="0x1234f8000"
              onChange={(e) => setAddress(e.target.value)}
            />
          </div>
          <button type="submit" className={primaryButton}>
            Search
          </button>
        </div>
        <div>
          <label htmlFor={ids.project} className={label}>
            Project
          </label>
          <select
            id={ids.project}
            className={inputClass}
            value={filters.project ?? ""}
            onChange={(e) =>
              set({ project: e.target.value || undefined, vm: undefined })
            }
          >
            <option value="">All projects</option>
            {choices.projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.id})
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.vm} className={label}>
            VM
          </label>
          <select
            id={ids.vm}
            className={inputClass}
            value={filters.vm ?? ""}
            onChange={(e) => set({ vm: e.target.value || undefined })}
          >
            <option value="">All VMs</option>
            {vms.map((v) => (
              <option key={v.id} value={v.id}>
                {v.name} ({v.id})
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.severity} className={label}>
            Severity
          </label>
          <select
            id={ids.severity}
            className={inputClass}
            value={filters.severity ?? ""}
            onChange={(e) =>
              set({ severity: SEVERITIES.find((s) => s === e.target.value) })
            }
          >
            <option value="">All severities</option>
            {[...SEVERITIES].reverse().map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.mechanism} className={label}>
            Mechanism
          </label>
          <select
            id={ids.mechanism}
            className={inputClass}
            value={filters.mechanism ?? ""}
            onChange={(e) =>
              set({
                mechanism: (
                  Object.keys(MECHANISM_LABEL) as LogFilters["mechanism"][]
                ).find((m) => m === e.target.value),
              })
            }
          >
            <option value="">All mechanisms</option>
            {Object.entries(MECHANISM_LABEL).map(([m, l]) => (
              <option key={m} value={m}>
                {l}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={ids.consumed} className={label}>
            Consumed
          </label>
          <select
            id={ids.consumed}
            className={inputClass}
            value={filters.consumed ?? ""}
            onChange={(e) =>
              set({
                consumed:
                  e.target.value === "true" || e.target.value === "false"
                    ? e.target.value
                    : undefined,
              })
            }
          >
            <option value="">Either</option>
            <option value="true">Consumed by the guest</option>
            <option value="false">Found, not consumed</option>
          </select>
        </div>
        <div>
          <label htmlFor={ids.range} className={label}>
            Time range
          </label>
          <select
            id={ids.range}
            className={inputClass}
            value={filters.range}
            onChange={(e) => {
              const range = e.target.value as RangeKey;
              if (range === "custom") {
                const to = new Date();
                const from = new Date(to.getTime() - 86400_000);
                setSince(toLocalInput(from.toISOString()));
                setUntil(toLocalInput(to.toISOString()));
                set({
                  range,
                  since: from.toISOString(),
                  until: to.toISOString(),
                });
              } else set({ range, since: undefined, until: undefined });
            }}
          >
            {(Object.keys(RANGE_LABEL) as RangeKey[]).map((r) => (
              <option key={r} value={r}>
                {RANGE_LABEL[r]}
              </option>
            ))}
          </select>
        </div>
        {filters.range === "custom" ? (
          <div className="col-span-full flex flex-wrap items-end gap-3">
            <div>
              <label htmlFor={ids.since} className={label}>
                From (your time)
              </label>
              <input
                id={ids.since}
                type="datetime-local"
                className={inputClass}
                value={since}
                onChange={(e) => setSince(e.target.value)}
              />
            </div>
            <div>
              <label htmlFor={ids.until} className={label}>
                Until (your time, exclusive)
              </label>
              <input
                id={ids.until}
                type="datetime-local"
                className={inputClass}
                value={until}
                onChange={(e) => setUntil(e.target.value)}
              />
            </div>
            <button type="submit" className={secondaryButton}>
              Apply range
            </button>
          </div>
        ) : null}
        <div className="col-span-full flex flex-wrap items-center gap-3 text-sm">
          <CopyButton text={permalink} label="Copy permalink" size="normal" />
          {filters.project ||
          filters.vm ||
          filters.severity ||
          filters.q ||
          filters.mechanism ||
          filters.consumed ||
          filters.address ||
          filters.range !== "7d" ? (
            <button
              type="button"
              className={secondaryButton}
              onClick={() => {
                setText("");
                setAddress("");
                go({ range: "7d" });
              }}
            >
              Clear filters
            </button>
          ) : null}
          <span
            role="status"
            aria-live="polite"
            className="text-slate-600 dark:text-slate-300"
          >
            {pending ? "Updating…" : ""}
          </span>
        </div>
      </form>
    </Card>
  );
}

export function LinkedEntry({ insertId }: { insertId: string }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.logEntry.byId.queryOptions({ insertId }));
  return (
    <Card title="Linked entry" id="linked-entry">
      {q.data ? (
        <ul className="divide-y divide-slate-200 dark:divide-slate-800">
          <LogEntryRow entry={q.data} defaultOpen />
        </ul>
      ) : q.error ? (
        <EmptyState title="This log entry is not in your tenant">
          {q.error.message}
        </EmptyState>
      ) : (
        <p className="p-4 text-sm text-slate-600">Loading…</p>
      )}
    </Card>
  );
}

export function LogResults({
  input,
  filters,
}: {
  input: LogListInput;
  filters: LogFilters;
}) {
  const trpc = useTRPC();
  const q = useSuspenseInfiniteQuery(
    trpc.logEntry.list.infiniteQueryOptions(input, byNextCursor),
  );
  const entries = q.data.pages.flatMap((p) => p.data);
  return (
    <>
      <div className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-4 py-2 text-sm text-slate-600 dark:border-slate-800 dark:text-slate-300">
        <span>
          {entries.length}
          {q.hasNextPage ? "+" : ""}{" "}
          {entries.length === 1 ? "entry" : "entries"}
          {input.since ? (
            <>
              {" "}
              since <LocalTime iso={input.since} seconds={false} />
            </>
          ) : null}
          {"until" in input && input.until ? (
            <>
              {" "}
              until <LocalTime iso={input.until} seconds={false} />
            </>
          ) : null}
        </span>
        <span className="text-xs">
          Times in your time zone; hover for UTC. Select an entry to see its
          JSON.
        </span>
      </div>
      {entries.length ? (
        <LogEntryList
          entries={entries}
          openId={filters.entry}
          label="Log entries"
        />
      ) : (
        <EmptyState title="No log entries match">
          Widen the time range or clear a filter.
        </EmptyState>
      )}
      <LoadMore q={q} />
    </>
  );
}

const barLabel = (barSeconds: number) =>
  barSeconds % 86400 === 0
    ? `${barSeconds / 86400} d`
    : barSeconds % 3600 === 0
      ? `${barSeconds / 3600} h`
      : `${barSeconds / 60} min`;

// The matching entries over the selected range; each bar is a link to the view of just its range.
export function LogChart({
  input,
  filters,
}: {
  input: LogViewFilters & { until: string };
  filters: LogFilters;
}) {
  const trpc = useTRPC();
  const pathname = usePathname();
  const tz = useTimeZone();
  const q = useQuery(trpc.logEntry.histogram.queryOptions(input));
  if (q.error)
    return (
      <p role="alert" className="p-4 text-sm text-red-700 dark:text-red-300">
        The chart could not be loaded: {q.error.message}
      </p>
    );
  if (!q.data)
    return (
      <div className="h-36 p-4" aria-busy>
        <span className="sr-only">Loading the chart</span>
      </div>
    );
  const h = q.data;
  const max = Math.max(1, ...h.bars.map((b) => b.count));
  const hrefOf = (b: { start: string; end: string }) =>
    `${pathname}${filtersToSearch({ ...filters, entry: undefined, range: "custom", since: b.start, until: b.end })}`;
  return (
    <figure className="px-4 pt-3 pb-2" aria-label="Log entries over time">
      <figcaption className="mb-2 flex flex-wrap items-baseline justify-between gap-2 text-xs text-slate-600 dark:text-slate-300">
        <span>
          <strong className="text-sm text-slate-900 dark:text-slate-100">
            {h.total.toLocaleString("en")}
          </strong>{" "}
          matching {h.total === 1 ? "entry" : "entries"} · one bar per{" "}
          {barLabel(h.barSeconds)}
        </span>
        <span>Select a bar to open its range.</span>
      </figcaption>
      <ol
        className="flex h-28 items-end gap-px border-b border-slate-300 dark:border-slate-700"
        data-testid="log-chart"
      >
        {h.bars.map((b) => {
          const label = `${b.count.toLocaleString("en")} ${b.count === 1 ? "entry" : "entries"} from ${formatTime(b.start, tz, false)} to ${formatTime(b.end, tz, false)}`;
          return (
            <li key={b.start} className="flex h-full min-w-0 flex-1 items-end">
              <Link
                href={hrefOf(b)}
                scroll={false}
                aria-label={label}
                title={label}
                data-count={b.count}
                className="group flex h-full w-full items-end focus-visible:outline-2 focus-visible:outline-rose-600"
              >
                <span
                  className={`block w-full rounded-t-sm ${b.count ? "bg-rose-600 group-hover:bg-rose-800 dark:bg-rose-500" : "bg-transparent"}`}
                  style={{
                    height: b.count
                      ? `${Math.max(3, (b.count / max) * 100)}%`
                      : 0,
                  }}
                />
              </Link>
            </li>
          );
        })}
      </ol>
      <div className="mt-1 flex justify-between text-xs text-slate-500 dark:text-slate-400">
        <LocalTime iso={h.since} />
        <LocalTime iso={h.until} />
      </div>
    </figure>
  );
}

// The download of the view; the chart's count (same query, shared cache) says when it is capped.
export function ExportLinks({
  view,
  chartInput,
}: {
  view: LogViewFilters;
  chartInput: LogViewFilters & { until: string };
}) {
  const trpc = useTRPC();
  const total = useQuery(trpc.logEntry.histogram.queryOptions(chartInput)).data
    ?.total;
  const capped = total !== undefined && total > EXPORT_MAX_ROWS;
  return (
    <div className="flex flex-wrap items-center gap-2 text-sm">
      <span className="text-slate-600 dark:text-slate-300">
        Export this view:
      </span>
      <a className={secondaryButton} href={exportHref(view, "csv")} download>
        CSV
      </a>
      <a className={secondaryButton} href={exportHref(view, "ndjson")} download>
        NDJSON
      </a>
      {capped ? (
        <span className="text-xs text-amber-800 dark:text-amber-300">
          The newest {EXPORT_MAX_ROWS.toLocaleString("en")} of{" "}
          {total.toLocaleString("en")}: narrow the range for the rest.
        </span>
      ) : null}
    </div>
  );
}
