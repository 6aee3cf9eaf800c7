"use client";
import Link from "next/link";
import { useState } from "react";
import { plainWords } from "@/server/incidents/plain-words";
import { SeverityBadge } from "./badges";
import { CopyButton } from "./copy-button";
import { LocalTime } from "./time";
import type { LogEntry } from "./types";
import { linkClass } from "./ui";

function message(e: LogEntry): string {
  const m = (e.jsonPayload as { message?: unknown }).message;
  return typeof m === "string" ? m : "";
}

export function LogEntryRow({
  entry,
  defaultOpen = false,
  showIncident = true,
}: {
  entry: LogEntry;
  defaultOpen?: boolean;
  showIncident?: boolean;
}) {
  const [open, setOpen] = useState(defaultOpen);
  const panelId = `entry-${entry.insertId}`;
  const permalink = `/logs?entry=${encodeURIComponent(entry.insertId)}`;
  return (
    <li
      id={entry.insertId}
      className={`scroll-mt-24 ${defaultOpen ? "bg-rose-50/60 dark:bg-rose-950/20" : ""}`}
    >
      <button
        type="button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
        className="grid w-full grid-cols-[auto_1fr] items-center gap-x-3 gap-y-1 px-4 py-2 text-left hover:bg-slate-50 focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-rose-600 sm:grid-cols-[auto_13rem_6.5rem_12rem_1fr] dark:hover:bg-slate-800/50"
      >
        <span
          aria-hidden
          className={`inline-block w-3 text-slate-500 transition-transform ${open ? "rotate-90" : ""}`}
        >
          ▸
        </span>
        <span className="text-sm whitespace-nowrap">
          <LocalTime iso={entry.timestamp} />
        </span>
        <span className="col-start-2 sm:col-start-auto">
          <SeverityBadge severity={entry.severity} />
        </span>
        <span className="col-start-2 truncate font-mono text-xs text-slate-700 sm:col-start-auto dark:text-slate-300">
          {entry.resource.labels.vmId}
        </span>
        <span className="col-start-2 truncate text-sm text-slate-700 sm:col-start-auto dark:text-slate-200">
          {message(entry)}
        </span>
      </button>
      {open ? (
        <div id={panelId} className="space-y-2 px-4 pb-4 sm:pl-10">
          <p
            className="text-sm text-slate-800 dark:text-slate-200"
            data-testid="plain-words"
          >
            {plainWords(
              entry.jsonPayload as Parameters<typeof plainWords>[0],
              entry.severity as "CRITICAL" | "WARNING",
            )}
          </p>
          <div className="flex flex-wrap items-center gap-3 text-sm">
            {showIncident ? (
              <Link
                className={linkClass}
                href={`/incidents/${entry.incidentId}`}
              >
                Open the incident
              </Link>
            ) : null}
            <Link
              className={linkClass}
              href={`/vms/${encodeURIComponent(entry.resource.labels.vmId)}`}
            >
              VM memory health
            </Link>
            <Link className={linkClass} href={permalink}>
              Permalink
            </Link>
            <CopyButton
              text={JSON.stringify(entry, null, 2)}
              label="Copy JSON"
            />
          </div>
          <pre
            tabIndex={0}
            aria-label={`JSON of log entry ${entry.insertId}`}
            className="max-h-[32rem] overflow-auto rounded-md border border-slate-200 bg-slate-50 p-3 font-mono text-xs leading-5 text-slate-800 dark:border-slate-700 dark:bg-slate-950 dark:text-slate-200"
          >
            {JSON.stringify(entry, null, 2)}
          </pre>
        </div>
      ) : null}
    </li>
  );
}

export function LogEntryList({
  entries,
  openId,
  showIncident = true,
  label,
}: {
  entries: LogEntry[];
  openId?: string;
  showIncident?: boolean;
  label: string;
}) {
  return (
    <ul
      aria-label={label}
      className="divide-y divide-slate-200 dark:divide-slate-800"
    >
      {entries.map((e) => (
        <LogEntryRow
          key={e.insertId}
          entry={e}
          defaultOpen={e.insertId === openId}
          showIncident={showIncident}
        />
      ))}
    </ul>
  );
}
