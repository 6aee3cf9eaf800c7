import { TRPCError } from "@trpc/server";
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import {
  fetchFirstPage,
  fetchQuery,
  HydrateClient,
  trpc,
} from "@/server/trpc/rsc";
import { byNextCursor } from "@/app/_components/types";
import { VM_HEALTH_DAYS } from "../inputs";
import { VmView } from "./vm-view";
import { consoleViewer } from "@/server/auth";

export const metadata: Metadata = { title: "VM memory health" };

export default async function VmPage({
  params,
}: {
  params: Promise<{ vmId: string }>;
}) {
  if (!(await consoleViewer())) return null;
  const vmId = decodeURIComponent((await params).vmId);
  try {
    // the live baseline, taken before the data: a change in between makes the tab refetch (live.tsx)
    await fetchQuery(trpc.incident.stamp.queryOptions());
    await Promise.all([
      fetchQuery(
        trpc.vm.memoryHealth.queryOptions({ vmId, days: VM_HEALTH_DAYS }),
      ),
      fetchFirstPage(
        trpc.incident.list.infiniteQueryOptions(
          { vmId, limit: 20 },
          byNextCursor,
        ),
      ),
    ]);
  } catch (e) {
    if (
      e instanceof TRPCError &&
      (e.code === "NOT_FOUND" || e.code === "BAD_REQUEST")
    )
      notFound();
    throw e;
  }
  return (
    <HydrateClient>
      <VmView vmId={vmId} />
    </HydrateClient>
  );
}
