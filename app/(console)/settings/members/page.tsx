import type { Metadata } from "next";
import { Suspense } from "react";
import { consoleViewer } from "@/server/auth";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { Card, TableSkeleton } from "@/app/_components/ui";
import { MembersView } from "./members-view";

export const metadata: Metadata = { title: "Members" };

export default async function MembersPage() {
  const viewer = await consoleViewer();
  if (!viewer) return null;
  prefetch(trpc.settings.listMembers.queryOptions());
  return (
    <HydrateClient>
      <Suspense
        fallback={
          <Card title="Members">
            <TableSkeleton label="Loading members" />
          </Card>
        }
      >
        <MembersView role={viewer.tenant.role} self={viewer.email} />
      </Suspense>
    </HydrateClient>
  );
}
