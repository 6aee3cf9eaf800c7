import type { Metadata } from "next";
import { Suspense } from "react";
import { fetchFirstPage, HydrateClient, trpc } from "@/server/trpc/rsc";
import { byNextCursor } from "@/app/_components/types";
import { PageHeader, TableSkeleton } from "@/app/_components/ui";
import { EvacuationsView } from "./evacuations-view";
import { evacuationsInput } from "./inputs";

export const metadata: Metadata = { title: "Evacuations" };

const STATUSES = [
  "scheduled",
  "in_progress",
  "completed",
  "cancelled",
] as const;

export default async function EvacuationsPage({
  searchParams,
}: {
  searchParams: Promise<{ status?: string }>;
}) {
  const raw = (await searchParams).status;
  const status = STATUSES.find((s) => s === raw) ?? null;
  await fetchFirstPage(
    trpc.operator.evacuations.infiniteQueryOptions(
      evacuationsInput(status),
      byNextCursor,
    ),
  );
  return (
    <HydrateClient>
      <PageHeader
        title="Evacuations"
        description="Restarts on a healthy host (QEMU cannot live-migrate a VM with poisoned pages). Scheduled ones can be cancelled; a completed one is the VM seen on another host."
      />
      <Suspense fallback={<TableSkeleton label="Loading evacuations" />}>
        <EvacuationsView status={status} />
      </Suspense>
    </HydrateClient>
  );
}
