import type { Metadata } from "next";
import { Suspense } from "react";
import { requireOperator } from "@/server/auth";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { byNextCursor } from "@/app/_components/types";
import { Card, PageHeader, TableSkeleton } from "@/app/_components/ui";
import { OUTBOX_INPUT } from "@/app/_components/outbox-input";
import { OutboxList } from "@/app/_components/outbox-list";

export const metadata: Metadata = { title: "Outbox" };

export default async function OperatorOutboxPage() {
  // the layout answers 404 to anyone else; no query starts for them meanwhile
  await requireOperator();
  prefetch(
    trpc.operator.outbox.infiniteQueryOptions(OUTBOX_INPUT, byNextCursor),
  );
  return (
    <HydrateClient>
      <PageHeader
        title="Outbox"
        description="Every email of this installation, whole: tenants' notifications, invites and sign-in links. Without an email service (no RESEND_API_KEY) mail stays here; a sign-in link is readable nowhere else but its recipient's mailbox, so pass it only to that person."
      />
      <Card>
        <Suspense fallback={<TableSkeleton label="Loading the outbox" />}>
          <OutboxList scope="operator" />
        </Suspense>
      </Card>
    </HydrateClient>
  );
}
