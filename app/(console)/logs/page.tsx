import type { Metadata } from "next";
import { Suspense } from "react";
import { now } from "@/server/clock";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { byNextCursor } from "../_components/types";
import { Card, PageHeader, TableSkeleton } from "../_components/ui";
import { LinkedEntry, LogFiltersForm, LogResults } from "./logs-explorer";
import { logListInput, parseLogFilters } from "./params";
import { consoleViewer } from "@/server/auth";

export const metadata: Metadata = { title: "Logs" };

export default async function LogsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  if (!(await consoleViewer())) return null;
  const filters = parseLogFilters(await searchParams);
  const input = logListInput(filters, now());
  prefetch(trpc.logEntry.filters.queryOptions());
  prefetch(trpc.logEntry.list.infiniteQueryOptions(input, byNextCursor));
  if (filters.entry)
    prefetch(trpc.logEntry.byId.queryOptions({ insertId: filters.entry }));
  return (
    <HydrateClient>
      <PageHeader
        title="Logs"
        description="Critical log entries of your VMs, newest first. Every view is a link: copy the address bar or an entry's permalink."
      />
      <div className="space-y-4">
        <Suspense fallback={<div className="h-24" aria-hidden />}>
          <LogFiltersForm filters={filters} />
        </Suspense>
        {filters.entry ? (
          <Suspense
            fallback={
              <Card>
                <TableSkeleton rows={2} label="Loading the linked entry" />
              </Card>
            }
          >
            <LinkedEntry insertId={filters.entry} />
          </Suspense>
        ) : null}
        <Card>
          <Suspense
            key={JSON.stringify(input)}
            fallback={<TableSkeleton label="Loading log entries" />}
          >
            <LogResults input={input} filters={filters} />
          </Suspense>
        </Card>
      </div>
    </HydrateClient>
  );
}
