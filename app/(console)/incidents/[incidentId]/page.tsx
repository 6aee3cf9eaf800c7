import { TRPCError } from "@trpc/server";
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { byNextCursor } from "@/app/_components/types";
import {
  fetchFirstPage,
  fetchQuery,
  HydrateClient,
  trpc,
} from "@/server/trpc/rsc";
import { incidentEntriesInput } from "./inputs";
import { IncidentView } from "./incident-view";
import { consoleViewer } from "@/server/auth";
import { incidentName } from "@/emails/_components/incident-name";

// The page title names the incident ("db-1 — restarting on a healthy host"), never its id first.
export async function generateMetadata({
  params,
}: {
  params: Promise<{ incidentId: string }>;
}): Promise<Metadata> {
  const { incidentId } = await params;
  try {
    if (!(await consoleViewer())) return { title: "Incident" };
    await fetchQuery(trpc.incident.stamp.queryOptions());
    return {
      title: incidentName(
        await fetchQuery(trpc.incident.byId.queryOptions({ id: incidentId })),
      ),
    };
  } catch {
    return { title: "Incident" };
  }
}

// Everything the page shows is loaded before it renders, so nothing moves once it is on screen.
export default async function IncidentPage({
  params,
}: {
  params: Promise<{ incidentId: string }>;
}) {
  const viewer = await consoleViewer();
  if (!viewer) return null;
  const { incidentId } = await params;
  // the live baseline, taken before the data: a change in between makes the tab refetch (live.tsx)
  await fetchQuery(trpc.incident.stamp.queryOptions());
  try {
    await Promise.all([
      fetchQuery(trpc.incident.byId.queryOptions({ id: incidentId })),
      fetchFirstPage(
        trpc.logEntry.list.infiniteQueryOptions(
          incidentEntriesInput(incidentId),
          byNextCursor,
        ),
      ),
    ]);
  } catch (e) {
    // another tenant's incident, or no such id: the same answer
    if (
      e instanceof TRPCError &&
      (e.code === "NOT_FOUND" || e.code === "BAD_REQUEST")
    )
      notFound();
    throw e;
  }
  return (
    <HydrateClient>
      <IncidentView
        incidentId={incidentId}
        canAct={viewer.tenant.role !== "viewer"}
      />
    </HydrateClient>
  );
}
