import type { Metadata } from "next";
import { Suspense } from "react";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { byNextCursor } from "@/app/_components/types";
import { Card, TableSkeleton } from "@/app/_components/ui";
import { OUTBOX_INPUT } from "@/app/_components/outbox-input";
import { OutboxList } from "@/app/_components/outbox-list";
import { consoleViewer } from "@/server/auth";

export const metadata: Metadata = { title: "Outbox" };

// A development aid: where mail stays without an email service. It sits under settings, not in
// the main navigation.
export default async function OutboxPage() {
  if (!(await consoleViewer())) return null;
  prefetch(trpc.outbox.list.infiniteQueryOptions(OUTBOX_INPUT, byNextCursor));
  return (
    <HydrateClient>
      <Card title="Outbox" id="outbox">
        <p className="border-b border-slate-200 px-4 py-3 text-sm text-slate-600 dark:border-slate-800 dark:text-slate-300">
          Every email Poisonwatch made for this tenant. Without an email service
          (no RESEND_API_KEY) mail stays here: open a message to read it. A
          sign-in link or invitation is readable only by its recipient: here you
          see that it went, never its link.
        </p>
        <Suspense fallback={<TableSkeleton label="Loading the outbox" />}>
          <OutboxList />
        </Suspense>
      </Card>
    </HydrateClient>
  );
}
