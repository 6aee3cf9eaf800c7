"use client";
import { useSuspenseQuery } from "@tanstack/react-query";
import { useTRPC } from "@/app/_trpc/client";
import { filtersToSearch } from "../logs/params";
import { ErrorsChart } from "@/app/_components/charts";
import {
  EvacuationBanner,
  isComing,
} from "@/app/_components/evacuation-banner";
import { LiveStatus } from "@/app/_components/live";
import { IncidentTable } from "@/app/_components/incident-table";
import { Card, EmptyState, PageHeader, TextLink } from "@/app/_components/ui";

function Stat({
  label,
  value,
  hint,
  href,
}: {
  label: string;
  value: number;
  hint: string;
  href?: string;
}) {
  return (
    <div className="min-w-0 rounded-lg border border-slate-200 bg-white p-3 shadow-sm sm:p-4 dark:border-slate-800 dark:bg-slate-900">
      <p className="text-xs font-medium text-slate-600 sm:text-sm dark:text-slate-300">
        {label}
      </p>
      <p className="mt-1 text-2xl font-semibold tabular-nums sm:text-3xl">
        {value}
      </p>
      <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">
        {href ? <TextLink href={href}>{hint}</TextLink> : hint}
      </p>
    </div>
  );
}

export function OverviewView({ canAct }: { canAct: boolean }) {
  const trpc = useTRPC();
  const { data } = useSuspenseQuery(trpc.incident.overview.queryOptions());
  // the restart that needs a decision soonest first; those under way after them
  const coming = data.openIncidents
    .filter(isComing)
    .sort(
      (a, b) =>
        Number(a.evacuation!.status !== "scheduled") -
          Number(b.evacuation!.status !== "scheduled") ||
        Date.parse(a.evacuation!.scheduledFor) -
          Date.parse(b.evacuation!.scheduledFor),
    );
  return (
    <div className="space-y-6 [&>div.mb-6]:mb-0">
      {coming.length ? (
        <div className="space-y-3">
          {coming.map((i) => (
            <EvacuationBanner
              key={i.id}
              incident={i}
              action={data.beforeRestart[i.id] ?? null}
              canAct={canAct}
              typicalRestartSeconds={data.typicalRestartSeconds}
            />
          ))}
        </div>
      ) : null}
      <PageHeader
        title="Overview"
        description="What needs you now, open incidents, and memory errors over the last 30 days."
        actions={<LiveStatus />}
      />
      <div className="grid grid-cols-3 gap-3 sm:gap-4">
        <Stat
          label="Open incidents"
          value={data.openIncidents.length}
          hint="All incidents"
          href="/incidents"
        />
        <Stat
          label="Affected VMs"
          value={data.affectedVmIds.length}
          hint="All VMs"
          href="/vms"
        />
        <Stat
          label="Errors, last 30 days"
          value={data.errorTotal}
          hint="Explore the logs"
          href={`/logs${filtersToSearch({ range: "custom", ...data.errorRange })}`}
        />
      </div>
      <Card title="Open incidents" id="open-incidents">
        {data.openIncidents.length ? (
          <IncidentTable
            incidents={data.openIncidents}
            caption="Open incidents"
          />
        ) : (
          <EmptyState title="No open incidents">
            None of your VMs has an unresolved memory error.
          </EmptyState>
        )}
      </Card>
      <Card title="Memory errors per day" id="errors-per-day">
        <ErrorsChart days={data.errorsByDay} />
      </Card>
    </div>
  );
}
