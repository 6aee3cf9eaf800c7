import type { Metadata } from "next";
import { Suspense } from "react";
import { consoleViewer } from "@/server/auth";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { Card, TableSkeleton } from "@/app/_components/ui";
import { NotificationsView } from "./notifications-view";

export const metadata: Metadata = { title: "Notifications" };

export default async function NotificationsPage() {
  const viewer = await consoleViewer();
  if (!viewer) return null;
  prefetch(trpc.notification.settings.queryOptions());
  return (
    <HydrateClient>
      <Suspense
        fallback={
          <Card title="Email notifications">
            <TableSkeleton rows={4} label="Loading notification settings" />
          </Card>
        }
      >
        <NotificationsView role={viewer.tenant.role} />
      </Suspense>
    </HydrateClient>
  );
}
