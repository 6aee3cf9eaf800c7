"use client";
import { useSuspenseInfiniteQuery } from "@tanstack/react-query";
import type { IncidentStatus } from "@/db/constants";
import { useTRPC } from "@/app/_trpc/client";
import { IncidentTable } from "@/app/_components/incident-table";
import { EmptyState, LoadMore } from "@/app/_components/ui";
import { incidentListInput } from "./list-input";

export function IncidentList({ status }: { status?: IncidentStatus }) {
  const trpc = useTRPC();
  const q = useSuspenseInfiniteQuery(
    trpc.incident.list.infiniteQueryOptions(incidentListInput(status), {
      getNextPageParam: (last) => last.nextCursor,
    }),
  );
  const items = q.data.pages.flatMap((p) => p.data);
  if (!items.length) {
    return (
      <EmptyState
        title={status ? `No ${status} incidents` : "No incidents yet"}
      >
        When a memory error hits one of your VMs, its incident appears here.
      </EmptyState>
    );
  }
  return (
    <>
      <IncidentTable incidents={items} />
      <LoadMore q={q} />
      {q.error ? (
        <p role="alert" className="p-3 text-sm text-red-700">
          {q.error.message}
        </p>
      ) : null}
    </>
  );
}
