"use client";
import {
  useQuery,
  useSuspenseInfiniteQuery,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { usePathname, useRouter } from "next/navigation";
import { useId, useState, useTransition } from "react";
import { SEVERITIES } from "@/db/constants";
import { useTRPC } from "@/app/_trpc/client";
import { CopyButton } from "../_components/copy-button";
import { LogEntryList, LogEntryRow } from "../_components/log-entry-list";
import { LocalTime } from "../_components/time";
import { byNextCursor } from "../_components/types";
import {
  Card,
  EmptyState,
  inputClass,
  LoadMore,
  primaryButton,
  secondaryButton,
} from "../_components/ui";
import type { LogFilters, LogListInput, RangeKey } from "./params";
import { filtersToSearch, RANGES } from "./params";

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
  const ids = {
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
        className="grid gap-3 p-4 sm:grid-cols-2 lg:grid-cols-4"
        onSubmit={(e) => {
          e.preventDefault();
          set({
            range: "custom",
            since: fromLocalInput(since),
            until: fromLocalInput(until),
          });
        }}
      >
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
          <div className="flex flex-wrap items-end gap-3 sm:col-span-2 lg:col-span-4">
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
            <button type="submit" className={primaryButton}>
              Apply
            </button>
          </div>
        ) : null}
        <div className="flex flex-wrap items-center gap-3 text-sm sm:col-span-2 lg:col-span-4">
          <CopyButton text={permalink} label="Copy permalink" size="normal" />
          {filters.project ||
          filters.vm ||
          filters.severity ||
          filters.range !== "7d" ? (
            <button
              type="button"
              className={secondaryButton}
              onClick={() => go({ range: "7d" })}
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
