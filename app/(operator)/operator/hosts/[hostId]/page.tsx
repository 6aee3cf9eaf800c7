import { TRPCError } from "@trpc/server";
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { fetchQuery, HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { HostView } from "./host-view";

export const metadata: Metadata = { title: "Host" };

export default async function HostPage({
  params,
}: {
  params: Promise<{ hostId: string }>;
}) {
  const hostId = decodeURIComponent((await params).hostId);
  try {
    await fetchQuery(trpc.operator.host.queryOptions({ hostId }));
  } catch (e) {
    if (
      e instanceof TRPCError &&
      (e.code === "NOT_FOUND" || e.code === "BAD_REQUEST")
    )
      notFound();
    throw e;
  }
  prefetch(trpc.operator.uncorrelated.queryOptions({ hostId, limit: 20 }));
  return (
    <HydrateClient>
      <HostView hostId={hostId} />
    </HydrateClient>
  );
}
