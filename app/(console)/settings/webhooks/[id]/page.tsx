import { TRPCError } from "@trpc/server";
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { Suspense } from "react";
import { consoleViewer } from "@/server/auth";
import { fetchQuery, HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { Card, TableSkeleton } from "@/app/_components/ui";
import { WebhookView } from "./webhook-view";

export const metadata: Metadata = { title: "Webhook endpoint" };

export default async function WebhookPage({
  params,
}: {
  params: Promise<{ id: string }>;
}) {
  const viewer = await consoleViewer();
  if (!viewer) return null;
  const { id } = await params;
  try {
    await fetchQuery(trpc.notification.webhookById.queryOptions({ id }));
  } catch (e) {
    if (
      e instanceof TRPCError &&
      (e.code === "NOT_FOUND" || e.code === "BAD_REQUEST")
    )
      notFound();
    throw e;
  }
  prefetch(
    trpc.notification.listDeliveries.queryOptions({
      endpointId: id,
      limit: 50,
    }),
  );
  return (
    <HydrateClient>
      <Suspense
        fallback={
          <Card title="Webhook endpoint">
            <TableSkeleton label="Loading the webhook endpoint" />
          </Card>
        }
      >
        <WebhookView id={id} role={viewer.tenant.role} />
      </Suspense>
    </HydrateClient>
  );
}
