import type { Metadata } from "next";
import { Suspense } from "react";
import { consoleViewer } from "@/server/auth";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { Card, TableSkeleton } from "@/app/_components/ui";
import { ApiKeysView } from "./api-keys-view";

export const metadata: Metadata = { title: "API keys" };

export default async function ApiKeysPage() {
  const viewer = await consoleViewer();
  if (!viewer) return null;
  prefetch(trpc.settings.listApiKeys.queryOptions());
  return (
    <HydrateClient>
      <Suspense
        fallback={
          <Card title="API keys">
            <TableSkeleton label="Loading API keys" />
          </Card>
        }
      >
        <ApiKeysView role={viewer.tenant.role} />
      </Suspense>
    </HydrateClient>
  );
}
