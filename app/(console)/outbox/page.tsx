import type { Metadata } from "next";
import { Suspense } from "react";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { byNextCursor } from "@/app/_components/types";
import { Card, PageHeader, TableSkeleton } from "@/app/_components/ui";
import { OUTBOX_INPUT } from "./input";
import { OutboxList } from "./outbox-list";
import { consoleViewer } from "@/server/auth";

export const metadata: Metadata = { title: "Outbox" };

export default async function OutboxPage() {
  if (!(await consoleViewer())) return null;
  prefetch(trpc.outbox.list.infiniteQueryOptions(OUTBOX_INPUT, byNextCursor));
  return (
    <HydrateClient>
      <PageHeader
        title="Outbox"
        description="Every email Poisonwatch made for this tenant. Without an email service (no RESEND_API_KEY) mail stays here, in the built-in outbox: open a message to read it. A sign-in link or invitation is readable only by its recipient: here you see that it went, never its link."
      />
      <Card>
        <Suspense fallback={<TableSkeleton label="Loading the outbox" />}>
          <OutboxList />
        </Suspense>
      </Card>
    </HydrateClient>
  );
}
