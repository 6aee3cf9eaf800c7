"use client";
import {
  useSuspenseInfiniteQuery,
  useSuspenseQuery,
} from "@tanstack/react-query";
import Link from "next/link";
import { useEffect } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { incidentName } from "@/emails/_components/incident-name";
import { actionBeforeRestart } from "@/server/incidents/action-before-restart";
import { CopyButton } from "@/app/_components/copy-button";
import {
  EvacuationBanner,
  isComing,
} from "@/app/_components/evacuation-banner";
import { LiveStatus } from "@/app/_components/live";
import { SeverityBadge, StatusBadge } from "@/app/_components/badges";
import { LogEntryList } from "@/app/_components/log-entry-list";
import { PlaybookSteps } from "@/app/_components/playbook";
import { LocalTime } from "@/app/_components/time";
import {
  Breadcrumb,
  Card,
  EmptyState,
  Facts,
  linkClass,
  LoadMore,
} from "@/app/_components/ui";
import { incidentEntriesInput } from "./inputs";

export function IncidentView({
  incidentId,
  canAct,
}: {
  incidentId: string;
  canAct: boolean;
}) {
  const trpc = useTRPC();
  const { data: inc } = useSuspenseQuery(
    trpc.incident.byId.queryOptions({ id: incidentId }),
  );
  const entries = useSuspenseInfiniteQuery(
    trpc.logEntry.list.infiniteQueryOptions(incidentEntriesInput(incidentId), {
      getNextPageParam: (p) => p.nextCursor,
    }),
  );
  const logs = entries.data.pages.flatMap((p) => p.data);
  const name = incidentName(inc);
  useEffect(() => {
    document.title = `${name} · Poisonwatch`;
  }, [name]);
  return (
    <div className="space-y-6">
      {isComing(inc) ? (
        <EvacuationBanner
          incident={inc}
          action={actionBeforeRestart(inc.playbook.steps)}
          canAct={canAct}
          typicalRestartSeconds={inc.typicalRestartSeconds}
          onIncidentPage
        />
      ) : null}
      <div>
        <div className="flex flex-wrap items-start justify-between gap-2">
          <Breadcrumb
            href="/incidents"
            label="Incidents"
            current={name}
            mono={false}
          />
          <LiveStatus />
        </div>
        <h1 className="text-2xl font-semibold tracking-tight break-words">
          {name}
        </h1>
        <p className="mt-1 text-sm text-slate-600 dark:text-slate-300">
          {inc.playbook.title}
        </p>
        <div className="mt-2 flex flex-wrap items-center gap-2 text-sm">
          <SeverityBadge severity={inc.severity} />
          <StatusBadge status={inc.status} />
          {inc.evacuation ? (
            <StatusBadge
              status={inc.evacuation.status}
              label={`evacuation ${inc.evacuation.status.replace("_", " ")}`}
            />
          ) : null}
          <span className="text-slate-600 dark:text-slate-300">
            VM{" "}
            <Link
              href={`/vms/${encodeURIComponent(inc.vmId)}`}
              className={linkClass}
            >
              {inc.vmName}
            </Link>{" "}
            in {inc.projectId}
          </span>
        </div>
      </div>

      <Card title="Summary" id="summary">
        <Facts
          items={[
            // the errors' own times, in order; "Opened" is when the platform opened the incident
            ["First error", <LocalTime key="f" iso={inc.firstErrorAt} />],
            ["Latest error", <LocalTime key="l" iso={inc.lastErrorAt} />],
            ["Opened", <LocalTime key="o" iso={inc.openedAt} />],
            ["Last update", <LocalTime key="u" iso={inc.updatedAt} />],
            [
              "Resolved",
              inc.resolvedAt ? (
                <LocalTime key="r" iso={inc.resolvedAt} />
              ) : (
                "not yet"
              ),
            ],
            ["Log entries", inc.errorCount],
            ["Distinct poisoned pages", inc.distinctPages],
            ["Zone", inc.zone],
            [
              "VM id",
              <span key="v" className="font-mono text-xs">
                {inc.vmId}
              </span>,
            ],
            [
              "Incident id",
              <span key="i" className="flex min-w-0 items-center gap-2">
                <span className="truncate font-mono text-xs">{inc.id}</span>
                <CopyButton text={inc.id} label="Copy id" />
              </span>,
            ],
            [
              "Evacuation",
              inc.evacuation ? (
                <span key="e">
                  {inc.evacuation.status.replace("_", " ")} (
                  <LocalTime
                    iso={inc.evacuation.scheduledFor}
                    seconds={false}
                  />
                  , deadline{" "}
                  <LocalTime iso={inc.evacuation.deadline} seconds={false} />)
                </span>
              ) : (
                "none"
              ),
            ],
            ["Playbook", `${inc.playbook.key} v${inc.playbook.version}`],
          ]}
        />
      </Card>

      <div className="grid grid-cols-1 gap-6 lg:grid-cols-3">
        <Card
          title="Playbook: what to do"
          id="playbook"
          className="lg:col-span-2"
        >
          <PlaybookSteps steps={inc.playbook.steps} />
        </Card>
        <Card title="Timeline" id="timeline" className="self-start">
          {inc.timeline.length ? (
            <ol className="relative space-y-4 p-4">
              {inc.timeline.map((t, i) => (
                <li
                  key={i}
                  className="border-l-2 border-slate-200 pl-3 dark:border-slate-700"
                >
                  <div className="text-xs text-slate-600 dark:text-slate-400">
                    <LocalTime iso={t.at} /> ·{" "}
                    <span className="font-medium">
                      {t.kind.replace(/_/g, " ")}
                    </span>
                  </div>
                  <p className="text-sm">{t.summary}</p>
                  {t.logEntryId ? (
                    <Link
                      href={`/logs?entry=${encodeURIComponent(t.logEntryId)}`}
                      className={`${linkClass} text-xs`}
                    >
                      Log entry
                    </Link>
                  ) : null}
                </li>
              ))}
            </ol>
          ) : (
            <EmptyState title="No events yet" />
          )}
        </Card>
      </div>

      <Card
        title={`Log entries (${inc.errorCount}), newest first`}
        id="log-entries"
      >
        {logs.length ? (
          <>
            <LogEntryList
              entries={logs}
              showIncident={false}
              label="Log entries of this incident"
            />
            <LoadMore q={entries} />
          </>
        ) : (
          <EmptyState title="No log entries" />
        )}
      </Card>
    </div>
  );
}
