import type { Metadata } from "next";
import { Suspense } from "react";
import {
  fetchFirstPage,
  HydrateClient,
  prefetch,
  trpc,
} from "@/server/trpc/rsc";
import { byNextCursor } from "@/app/_components/types";
import { PageHeader, TableSkeleton } from "@/app/_components/ui";
import { HostsView } from "./hosts-view";
import { hostsInput } from "./inputs";

export const metadata: Metadata = { title: "Hosts" };

const STATES = ["healthy", "degraded", "evacuate"] as const;

export default async function HostsPage({
  searchParams,
}: {
  searchParams: Promise<{ state?: string }>;
}) {
  const raw = (await searchParams).state;
  const state = STATES.find((s) => s === raw);
  prefetch(trpc.operator.policy.queryOptions());
  await fetchFirstPage(
    trpc.operator.hosts.infiniteQueryOptions(hostsInput(state), byNextCursor),
  );
  return (
    <HydrateClient>
      <PageHeader
        title="Hosts"
        description="Every host with its state now: distinct poisoned (VM, page) pairs of its VMs within the policy window."
      />
      <Suspense fallback={<TableSkeleton label="Loading hosts" />}>
        <HostsView state={state ?? null} />
      </Suspense>
    </HydrateClient>
  );
}
