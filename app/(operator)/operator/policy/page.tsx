import type { Metadata } from "next";
import { Suspense } from "react";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { PageHeader, Skeleton } from "@/app/_components/ui";
import { PolicyEditor } from "./policy-editor";

export const metadata: Metadata = { title: "Policy" };

export default function PolicyPage() {
  prefetch(trpc.operator.policy.queryOptions());
  return (
    <HydrateClient>
      <PageHeader
        title="Health policy"
        description="When a VM or a host is evacuated. Preview shows what a change would do to the fleet now; a saved change applies from each VM's or host's next error."
      />
      <Suspense fallback={<Skeleton className="h-96" />}>
        <PolicyEditor />
      </Suspense>
    </HydrateClient>
  );
}
