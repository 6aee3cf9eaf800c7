"use client";
import { useSuspenseInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_trpc/client";
import { StatusBadge } from "@/app/_components/badges";
import { windowLabel } from "@/app/_components/charts";
import { LocalTime } from "@/app/_components/time";
import type { VmItem } from "@/app/_components/types";
import { byNextCursor } from "@/app/_components/types";
import {
  EmptyState,
  linkClass,
  LoadMore,
  Table,
  tdClass,
} from "@/app/_components/ui";
import { VM_LIST_INPUT } from "./inputs";

export function HealthMeter({ health }: { health: VmItem["memoryHealth"] }) {
  const ratio = Math.min(
    1,
    health.distinctPages / Math.max(1, health.threshold),
  );
  const color =
    ratio >= 1
      ? "bg-red-600"
      : ratio >= 0.5
        ? "bg-amber-500"
        : "bg-emerald-600";
  return (
    <div className="flex items-center gap-2">
      <div
        role="meter"
        aria-valuemin={0}
        aria-valuemax={health.threshold}
        aria-valuenow={health.distinctPages}
        aria-label={`${health.distinctPages} of ${health.threshold} distinct poisoned pages within ${windowLabel(health.windowSeconds)}`}
        className="h-2 w-24 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
      >
        <div
          className={`h-full ${color}`}
          style={{
            width: `${Math.max(ratio * 100, health.distinctPages ? 6 : 0)}%`,
          }}
        />
      </div>
      <span className="text-sm tabular-nums">
        {health.distinctPages} / {health.threshold}
      </span>
    </div>
  );
}

export function VmList() {
  const trpc = useTRPC();
  const q = useSuspenseInfiniteQuery(
    trpc.vm.list.infiniteQueryOptions(VM_LIST_INPUT, byNextCursor),
  );
  const vms = q.data.pages.flatMap((p) => p.data);
  if (!vms.length)
    return (
      <EmptyState title="No VMs yet">
        VMs appear here once the platform&apos;s inventory has them.
      </EmptyState>
    );
  return (
    <>
      <Table
        caption="VMs and their memory health"
        columns={[
          "VM",
          "Project",
          "Zone",
          "State",
          "Poisoned pages / threshold",
          "Evacuation",
        ]}
      >
        <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
          {vms.map((v) => (
            <tr
              key={v.id}
              className="hover:bg-slate-50 dark:hover:bg-slate-800/50"
            >
              <td className={tdClass}>
                <Link
                  href={`/vms/${encodeURIComponent(v.id)}`}
                  className={linkClass}
                >
                  {v.name}
                </Link>
                <div className="font-mono text-xs text-slate-600 dark:text-slate-400">
                  {v.id}
                </div>
              </td>
              <td className={tdClass}>{v.projectId}</td>
              <td className={tdClass}>{v.zone}</td>
              <td className={tdClass}>
                {v.memoryHealth.evacuation?.status === "in_progress" ? (
                  <StatusBadge status="in_progress" label="restarting" />
                ) : (
                  <StatusBadge status={v.state} />
                )}
              </td>
              <td className={tdClass}>
                <HealthMeter health={v.memoryHealth} />
              </td>
              <td className={tdClass}>
                {v.memoryHealth.evacuation ? (
                  <span className="text-sm">
                    <StatusBadge status={v.memoryHealth.evacuation.status} />{" "}
                    <LocalTime
                      iso={v.memoryHealth.evacuation.scheduledFor}
                      seconds={false}
                    />
                  </span>
                ) : (
                  <span className="text-sm text-slate-500 dark:text-slate-400">
                    none
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <LoadMore q={q} />
    </>
  );
}
