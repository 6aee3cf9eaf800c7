import type { Metadata } from "next";
import { Suspense } from "react";
import { consoleViewer } from "@/server/auth";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { Card, TableSkeleton } from "@/app/_components/ui";
import { WebhooksView } from "./webhooks-view";

export const metadata: Metadata = { title: "Webhooks" };

export default async function WebhooksPage() {
  const viewer = await consoleViewer();
  if (!viewer) return null;
  prefetch(trpc.notification.listWebhooks.queryOptions({ limit: 100 }));
  return (
    <HydrateClient>
      <Suspense
        fallback={
          <Card title="Webhook endpoints">
            <TableSkeleton label="Loading webhook endpoints" />
          </Card>
        }
      >
        <WebhooksView role={viewer.tenant.role} />
      </Suspense>
    </HydrateClient>
  );
}
