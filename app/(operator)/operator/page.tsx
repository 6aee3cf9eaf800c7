import type { Metadata } from "next";
import { Suspense } from "react";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { PageHeader, Skeleton } from "@/app/_components/ui";
import { FleetView } from "./fleet-view";

export const metadata: Metadata = { title: "Fleet" };

export default function FleetPage() {
  prefetch(trpc.operator.overview.queryOptions());
  return (
    <HydrateClient>
      <PageHeader
        title="Fleet health"
        description="Hosts by state under the current policy, hosts nearing their thresholds, what comes in and what waits to go out."
      />
      <Suspense fallback={<Skeleton className="h-96" />}>
        <FleetView />
      </Suspense>
    </HydrateClient>
  );
}
