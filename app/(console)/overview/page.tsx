import type { Metadata } from "next";
import { Suspense } from "react";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { PageHeader, Skeleton, TableSkeleton } from "../_components/ui";
import { OverviewView } from "./overview-view";
import { consoleViewer } from "@/server/auth";

export const metadata: Metadata = { title: "Overview" };

export default async function OverviewPage() {
  if (!(await consoleViewer())) return null;
  prefetch(trpc.incident.overview.queryOptions());
  return (
    <HydrateClient>
      <PageHeader title="Overview" description="Open incidents, the VMs they affect, and memory errors over the last 30 days." />
      <Suspense fallback={<OverviewSkeleton />}>
        <OverviewView />
      </Suspense>
    </HydrateClient>
  );
}

function OverviewSkeleton() {
  return (
    <div className="space-y-6">
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
