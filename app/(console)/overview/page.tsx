import type { Metadata } from "next";
import { Suspense } from "react";
import { fetchQuery, HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { PageHeader, Skeleton, TableSkeleton } from "@/app/_components/ui";
import { OverviewView } from "./overview-view";
import { consoleViewer } from "@/server/auth";

export const metadata: Metadata = { title: "Overview" };

export default async function OverviewPage() {
  const viewer = await consoleViewer();
  if (!viewer) return null;
  // the live baseline, taken before the data: a change in between makes the tab refetch (live.tsx)
  await fetchQuery(trpc.incident.stamp.queryOptions());
  prefetch(trpc.incident.overview.queryOptions());
  return (
    <HydrateClient>
      <Suspense fallback={<OverviewSkeleton />}>
        <OverviewView canAct={viewer.tenant.role !== "viewer"} />
      </Suspense>
    </HydrateClient>
  );
}

function OverviewSkeleton() {
  return (
    <div className="space-y-6">
      <PageHeader title="Overview" />
      <div className="grid grid-cols-3 gap-3 sm:gap-4">
        {[0, 1, 2].map((i) => (
          <Skeleton key={i} className="h-24" />
        ))}
      </div>
      <Skeleton className="h-64" />
      <TableSkeleton label="Loading the overview" />
    </div>
  );
}
