"use client";
import {
  useSuspenseInfiniteQuery,
  useSuspenseQuery,
} from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_trpc/client";
import { StatusBadge } from "@/app/_components/badges";
import { PagesChart, windowLabel } from "@/app/_components/charts";
import { IncidentTable } from "@/app/_components/incident-table";
import { LiveStatus } from "@/app/_components/live";
import { LocalTime } from "@/app/_components/time";
import { byNextCursor } from "@/app/_components/types";
import {
  Breadcrumb,
  Card,
  EmptyState,
  Facts,
  linkClass,
} from "@/app/_components/ui";
import { VM_HEALTH_DAYS } from "../inputs";
import { HealthMeter } from "../vm-list";

export function VmView({ vmId }: { vmId: string }) {
  const trpc = useTRPC();
  const { data } = useSuspenseQuery(
    trpc.vm.memoryHealth.queryOptions({ vmId, days: VM_HEALTH_DAYS }),
  );
  const incidents = useSuspenseInfiniteQuery(
    trpc.incident.list.infiniteQueryOptions({ vmId, limit: 20 }, byNextCursor),
  );
  const vm = data.vm;
  const h = vm.memoryHealth;
  const list = incidents.data.pages.flatMap((p) => p.data);
  const win = windowLabel(data.windowSeconds);
  return (
    <div className="space-y-6">
      <div>
        <div className="flex flex-wrap items-start justify-between gap-2">
          <Breadcrumb href="/vms" label="VMs" current={vm.id} />
          <LiveStatus />
        </div>
        <h1 className="text-2xl font-semibold tracking-tight">{vm.name}</h1>
        <div className="mt-2 flex flex-wrap items-center gap-2 text-sm">
          {h.evacuation?.status === "in_progress" ? (
            <StatusBadge
              status="in_progress"
              label="restarting on a healthy host"
            />
          ) : h.evacuation?.status === "scheduled" ? (
            <>
              <StatusBadge status={vm.state} />
              <StatusBadge status="scheduled" label="restart scheduled" />
            </>
          ) : (
            <StatusBadge status={vm.state} />
          )}
          <span className="text-slate-600 dark:text-slate-300">
            {vm.projectId} · {vm.zone}
          </span>
        </div>
      </div>
      <Card title="Memory health" id="memory-health">
        <Facts
          items={[
            ["Distinct poisoned pages", <HealthMeter key="m" health={h} />],
            ["Window", win],
            ["Threshold", `${h.threshold} distinct pages`],
            [
              "Evacuation",
              h.evacuation ? (
                <span key="e">
                  {h.evacuation.status.replace("_", " ")}{" "}
                  {h.evacuation.completedAt ? (
                    <>
                      (restarted on a healthy host{" "}
                      <LocalTime
                        iso={h.evacuation.completedAt}
                        seconds={false}
                      />
                      )
                    </>
                  ) : h.evacuation.cancelledAt ? (
                    <>
                      (cancelled{" "}
                      <LocalTime
                        iso={h.evacuation.cancelledAt}
                        seconds={false}
                      />
                      )
                    </>
                  ) : (
                    <>
                      (scheduled for{" "}
                      <LocalTime
                        iso={h.evacuation.scheduledFor}
                        seconds={false}
                      />
                      )
                    </>
                  )}
                </span>
              ) : (
                "none scheduled"
              ),
            ],
          ]}
        />
        <p className="px-4 text-sm text-slate-600 dark:text-slate-300">
          {h.evacuation?.status === "completed"
            ? "This VM was restarted on a healthy host with fresh memory: pages poisoned before the restart no longer count."
            : h.distinctPages >= h.threshold
              ? "This VM has reached the threshold: the platform restarts it on a healthy host."
              : `The platform restarts this VM on a healthy host when it reaches ${h.threshold} distinct poisoned pages within ${win}.`}{" "}
          <Link
            className={linkClass}
            href={`/logs?vm=${encodeURIComponent(vm.id)}&range=30d`}
          >
            Log entries of this VM
          </Link>
        </p>
        <PagesChart
          series={data.series}
          threshold={data.threshold}
          windowLabel={win}
        />
      </Card>
      <Card title="Incidents of this VM" id="vm-incidents">
        {list.length ? (
          <IncidentTable incidents={list} caption="Incidents of this VM" />
        ) : (
          <EmptyState title="No incidents">
            This VM has had no memory errors.
          </EmptyState>
        )}
      </Card>
    </div>
  );
}
