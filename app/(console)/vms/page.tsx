import type { Metadata } from "next";
import { Suspense } from "react";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { byNextCursor } from "@/app/_components/types";
import { Card, PageHeader, TableSkeleton } from "@/app/_components/ui";
import { VM_LIST_INPUT } from "./inputs";
import { VmList } from "./vm-list";
import { consoleViewer } from "@/server/auth";

export const metadata: Metadata = { title: "VMs" };

export default async function VmsPage() {
  if (!(await consoleViewer())) return null;
  prefetch(trpc.vm.list.infiniteQueryOptions(VM_LIST_INPUT, byNextCursor));
  return (
    <HydrateClient>
      <PageHeader
        title="VMs"
        description="Memory health of each VM: distinct poisoned pages within the policy window, against the threshold at which the platform restarts it on a healthy host."
      />
      <Card>
        <Suspense fallback={<TableSkeleton label="Loading VMs" />}>
          <VmList />
        </Suspense>
      </Card>
    </HydrateClient>
  );
}
