import type { Metadata } from "next";
import { Suspense } from "react";
import { fetchQuery, HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { byNextCursor } from "@/app/_components/types";
import { LiveStatus } from "@/app/_components/live";
import { Card, PageHeader, TableSkeleton } from "@/app/_components/ui";
import { IncidentList } from "./incident-list";
import { incidentListInput } from "./list-input";
import { StatusTabs } from "./status-tabs";
import { consoleViewer } from "@/server/auth";

export const metadata: Metadata = { title: "Incidents" };

export default async function IncidentsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  if (!(await consoleViewer())) return null;
  const sp = await searchParams;
  const status = typeof sp.status === "string" ? sp.status : undefined;
  const input = incidentListInput(status);
  // the live baseline, taken before the data: a change in between makes the tab refetch (live.tsx)
  await fetchQuery(trpc.incident.stamp.queryOptions());
  prefetch(trpc.incident.list.infiniteQueryOptions(input, byNextCursor));
  return (
    <HydrateClient>
      <PageHeader
        title="Incidents"
        description="One incident per VM disruption: it opens on the first memory error and resolves after a quiet period."
        actions={<LiveStatus />}
      />
      <StatusTabs current={input.status ?? "all"} />
      <Card>
        <Suspense
          key={input.status ?? "all"}
          fallback={<TableSkeleton label="Loading incidents" />}
        >
          <IncidentList status={input.status} />
        </Suspense>
      </Card>
    </HydrateClient>
  );
}
