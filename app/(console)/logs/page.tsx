import type { Metadata } from "next";
import { Suspense } from "react";
import { now } from "@/server/clock";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { byNextCursor } from "@/app/_components/types";
import { Card, PageHeader, TableSkeleton } from "@/app/_components/ui";
import {
  ExportLinks,
  LinkedEntry,
  LogChart,
  LogFiltersForm,
  LogResults,
} from "./logs-explorer";
import {
  logHistogramInput,
  logListInput,
  logViewFilters,
  parseLogFilters,
} from "./params";
import { consoleViewer } from "@/server/auth";

export const metadata: Metadata = { title: "Logs" };

export default async function LogsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  if (!(await consoleViewer())) return null;
  const filters = parseLogFilters(await searchParams);
  const at = now();
  const input = logListInput(filters, at);
  const chartInput = logHistogramInput(filters, at);
  prefetch(trpc.logEntry.filters.queryOptions());
  prefetch(trpc.logEntry.list.infiniteQueryOptions(input, byNextCursor));
  if (filters.entry)
    prefetch(trpc.logEntry.byId.queryOptions({ insertId: filters.entry }));
  return (
    <HydrateClient>
      <PageHeader
        title="Logs"
        description="Memory-error log entries of your VMs, newest first. Search, filter, pick a range on the chart; every view is a link and can be downloaded."
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
          <LogChart input={chartInput} filters={filters} />
          <div className="border-t border-slate-200 px-4 py-2 dark:border-slate-800">
            <ExportLinks
              view={logViewFilters(filters, at)}
              chartInput={chartInput}
            />
          </div>
        </Card>
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
