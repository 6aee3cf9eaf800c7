import type { Metadata } from "next";
import { Suspense } from "react";
import { consoleViewer } from "@/server/auth";
import { env } from "@/server/env";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { Card, TableSkeleton } from "@/app/_components/ui";
import { FeedsView } from "./feeds-view";

export const metadata: Metadata = { title: "Feeds" };

export default async function FeedsPage() {
  const viewer = await consoleViewer();
  if (!viewer) return null;
  prefetch(trpc.feed.listTokens.queryOptions());
  return (
    <HydrateClient>
      <Suspense
        fallback={
          <Card title="Feed tokens">
            <TableSkeleton label="Loading feed tokens" />
          </Card>
        }
      >
        <FeedsView role={viewer.tenant.role} baseUrl={env().publicUrl} />
      </Suspense>
    </HydrateClient>
  );
}
