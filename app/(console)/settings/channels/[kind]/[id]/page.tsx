import { TRPCError } from "@trpc/server";
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { Suspense } from "react";
import { consoleViewer } from "@/server/auth";
import { fetchQuery, HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { Card, TableSkeleton } from "@/app/_components/ui";
import { channelPage } from "../../kinds";
import { ChannelView } from "./channel-view";

export async function generateMetadata({
  params,
}: {
  params: Promise<{ kind: string }>;
}): Promise<Metadata> {
  const page = channelPage((await params).kind);
  return { title: page ? `${page.label} channel` : "Channel" };
}

export default async function ChannelPage({
  params,
}: {
  params: Promise<{ kind: string; id: string }>;
}) {
  const { kind, id } = await params;
  const page = channelPage(kind);
  if (!page) notFound();
  const viewer = await consoleViewer();
  if (!viewer) return null;
  try {
    const c = await fetchQuery(trpc.channel.byId.queryOptions({ id }));
    // another kind's channel lives on its own page
    if (c.kind !== page.kind) notFound();
  } catch (e) {
    if (
      e instanceof TRPCError &&
      (e.code === "NOT_FOUND" || e.code === "BAD_REQUEST")
    )
      notFound();
    throw e;
  }
  prefetch(trpc.channel.deliveries.queryOptions({ id, limit: 50 }));
  return (
    <HydrateClient>
      <Suspense
        fallback={
          <Card title={`${page.label} channel`}>
            <TableSkeleton label={`Loading the ${page.label} channel`} />
          </Card>
        }
      >
        <ChannelView id={id} kind={page.kind} role={viewer.tenant.role} />
      </Suspense>
    </HydrateClient>
  );
}
