import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { Suspense } from "react";
import { consoleViewer } from "@/server/auth";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { Card, TableSkeleton } from "@/app/_components/ui";
import { channelPage } from "../kinds";
import { ChannelsView } from "./channels-view";

export async function generateMetadata({
  params,
}: {
  params: Promise<{ kind: string }>;
}): Promise<Metadata> {
  const page = channelPage((await params).kind);
  return { title: page ? `${page.label} channels` : "Channels" };
}

export default async function ChannelsPage({
  params,
}: {
  params: Promise<{ kind: string }>;
}) {
  const page = channelPage((await params).kind);
  if (!page) notFound();
  const viewer = await consoleViewer();
  if (!viewer) return null;
  prefetch(trpc.channel.list.queryOptions({ kind: page.kind, limit: 100 }));
  prefetch(trpc.channel.kinds.queryOptions());
  return (
    <HydrateClient>
      <Suspense
        fallback={
          <Card title={`${page.label} channels`}>
            <TableSkeleton label={`Loading ${page.label} channels`} />
          </Card>
        }
      >
        <ChannelsView kind={page.kind} role={viewer.tenant.role} />
      </Suspense>
    </HydrateClient>
  );
}
