"use client";
import {
  useSuspenseInfiniteQuery,
  useSuspenseQuery,
} from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_trpc/client";
import { LocalTime } from "@/app/_components/time";
import { byNextCursor } from "@/app/_components/types";
import {
  Card,
  EmptyState,
  LoadMore,
  Table,
  tdClass,
  TextLink,
} from "@/app/_components/ui";
import { HostStateBadge, PressureMeter } from "../_components/host-state";
import type { HostState as State } from "./inputs";
import { hostsInput } from "./inputs";

const TABS: { label: string; state: State | null }[] = [
  { label: "All", state: null },
  { label: "Evacuate", state: "evacuate" },
  { label: "Degraded", state: "degraded" },
  { label: "Healthy", state: "healthy" },
];

export function HostsView({ state }: { state: State | null }) {
  const trpc = useTRPC();
  const policy = useSuspenseQuery(trpc.operator.policy.queryOptions()).data;
  const q = useSuspenseInfiniteQuery(
    trpc.operator.hosts.infiniteQueryOptions(hostsInput(state), byNextCursor),
  );
  const hosts = q.data.pages.flatMap((p) => p.data);
  return (
    <Card>
      <nav
        aria-label="Filter by state"
        className="flex flex-wrap gap-2 border-b border-slate-200 p-3 dark:border-slate-800"
      >
        {TABS.map((t) => (
          <Link
            key={t.label}
            href={
              t.state ? `/operator/hosts?state=${t.state}` : "/operator/hosts"
            }
            aria-current={t.state === state ? "page" : undefined}
            className={`rounded-full px-3 py-1 text-sm font-medium ${
              t.state === state
                ? "bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900"
                : "bg-slate-100 text-slate-700 hover:bg-slate-200 dark:bg-slate-800 dark:text-slate-200"
            }`}
          >
            {t.label}
          </Link>
        ))}
      </nav>
      {hosts.length ? (
        <Table
          caption="Hosts and their health"
          columns={[
            "Host",
            "Zone",
            "State",
            "Distinct pages",
            "Running VMs",
            "Active evacuations",
            "Last error",
          ]}
        >
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {hosts.map((h) => (
              <tr key={h.id}>
                <td className={tdClass}>
                  <TextLink
                    href={`/operator/hosts/${encodeURIComponent(h.id)}`}
                  >
                    {h.id}
                  </TextLink>
                </td>
                <td className={tdClass}>{h.zone}</td>
                <td className={tdClass}>
                  <HostStateBadge state={h.state} />
                </td>
                <td className={tdClass}>
                  <PressureMeter
                    pages={h.distinctPages}
                    degraded={policy.hostDegradedPages}
                    evacuate={policy.hostEvacuatePages}
                  />
                </td>
                <td className={`${tdClass} tabular-nums`}>{h.runningVms}</td>
                <td className={`${tdClass} tabular-nums`}>
                  {h.activeEvacuations}
                </td>
                <td className={tdClass}>
                  <LocalTime iso={h.lastErrorAt} seconds={false} />
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      ) : (
        <EmptyState title={state ? `No host is ${state}` : "No hosts yet"} />
      )}
      <LoadMore q={q} label="More hosts" />
    </Card>
  );
}
