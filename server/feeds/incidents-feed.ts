import { desc, eq, inArray, lte, sql } from "drizzle-orm";
import { incidentTimeline, tenants } from "@/db/schema";
import type { Db } from "@/db/client";
import type { TenantContext } from "@/server/context";
import { env } from "@/server/env";
import { incidentName, whatHappened } from "@/emails/_components/incident-name";
import { listIncidents } from "@/server/incidents/incidents";
import type { IncidentView } from "@/server/incidents/incidents";
import { htmlText, renderAtom, urnUuid } from "./atom";
import type { AtomEntry } from "./atom";

export const INCIDENTS_FEED_SIZE = 50;
// the newest timeline entries an entry's content shows
const TIMELINE_PER_ENTRY = 5;

const plural = (n: number, one: string, many = `${one}s`) =>
  `${n} ${n === 1 ? one : many}`;

async function latestTimelines(db: Db, incidentIds: string[]) {
  const out = new Map<string, { at: Date; summary: string }[]>();
  if (!incidentIds.length) return out;
  const ranked = db
    .select({
      incidentId: incidentTimeline.incidentId,
      at: incidentTimeline.at,
      summary: incidentTimeline.summary,
      rank: sql<number>`row_number() over (partition by ${incidentTimeline.incidentId} order by ${incidentTimeline.at} desc, ${incidentTimeline.id} desc)`.as(
        "rank",
      ),
    })
    .from(incidentTimeline)
    .where(inArray(incidentTimeline.incidentId, incidentIds))
    .as("ranked");
  const rows = await db
    .select()
    .from(ranked)
    .where(lte(ranked.rank, TIMELINE_PER_ENTRY))
    .orderBy(ranked.incidentId, desc(ranked.at));
  for (const r of rows) {
    const list = out.get(r.incidentId) ?? [];
    list.push({ at: new Date(r.at), summary: r.summary });
    out.set(r.incidentId, list);
  }
  return out;
}

function summaryOf(i: IncidentView): string {
  const parts = [
    `${i.severity}, ${i.status}: ${plural(i.errorCount, "memory error")} on ${plural(i.distinctPages, "distinct page")} of VM ${i.vmName} (${i.vmId}), project ${i.projectId}, zone ${i.zone}.`,
    `Playbook: ${i.playbook.title}.`,
  ];
  if (i.evacuation)
    parts.push(
      `Restart on a healthy host: ${i.evacuation.status.replace("_", " ")}, for ${i.evacuation.scheduledFor}.`,
    );
  return parts.join(" ");
}

function contentOf(
  i: IncidentView,
  link: string,
  timeline: { at: Date; summary: string }[],
): string {
  const h = htmlText;
  const facts: [string, string][] = [
    ["Severity", i.severity],
    ["Status", i.status],
    ["VM", `${i.vmName} (${i.vmId})`],
    ["Project", i.projectId],
    ["Zone", i.zone],
    [
      "Memory errors",
      `${plural(i.errorCount, "error")} on ${plural(i.distinctPages, "distinct page")}`,
    ],
    ["Playbook", i.playbook.title],
    ["Opened", i.openedAt],
  ];
  if (i.evacuation)
    facts.push([
      "Restart on a healthy host",
      `${i.evacuation.status.replace("_", " ")}, scheduled for ${i.evacuation.scheduledFor} (deadline ${i.evacuation.deadline})`,
    ]);
  if (i.resolvedAt) facts.push(["Resolved", i.resolvedAt]);
  return [
    `<p>${h(`${i.vmName}: ${whatHappened(i)}.`)}</p>`,
    `<ul>${facts.map(([k, v]) => `<li><strong>${h(k)}:</strong> ${h(v)}</li>`).join("")}</ul>`,
    timeline.length
      ? `<p>Latest:</p><ul>${timeline.map((t) => `<li>${h(t.at.toISOString())} — ${h(t.summary)}</li>`).join("")}</ul>`
      : "",
    `<p><a href="${h(link)}">Open the incident in the console</a></p>`,
  ].join("");
}

// The tenant's newest incidents (by openedAt, as every incident list), one entry each, updated
// whenever the incident changes.
export async function getIncidentsFeed(ctx: TenantContext): Promise<string> {
  const base = env().publicUrl;
  const [tenant] = await ctx.db
    .select({ name: tenants.name, createdAt: tenants.createdAt })
    .from(tenants)
    .where(eq(tenants.id, ctx.tenantId));
  const { data } = await listIncidents(ctx, { limit: INCIDENTS_FEED_SIZE });
  const timelines = await latestTimelines(
    ctx.db,
    data.map((i) => i.id),
  );
  const entries: AtomEntry[] = data.map((i) => {
    const link = `${base}/incidents/${encodeURIComponent(i.id)}`;
    return {
      id: urnUuid(`incident:${i.id}`),
      title: incidentName(i),
      updated: new Date(i.updatedAt),
      published: new Date(i.openedAt),
      link,
      categories: [i.severity, i.status],
      summary: summaryOf(i),
      contentHtml: contentOf(i, link, timelines.get(i.id) ?? []),
    };
  });
  const updated = entries.reduce<Date>(
    (m, e) => (e.updated > m ? e.updated : m),
    tenant?.createdAt ?? new Date(0),
  );
  return renderAtom({
    id: urnUuid(`tenant:${ctx.tenantId}:incidents`),
    title: `Poisonwatch incidents — ${tenant?.name ?? ctx.tenantId}`,
    subtitle:
      "Uncorrectable memory errors that hit this tenant's VMs, newest first",
    updated,
    link: `${base}/incidents`,
    generatorVersion: "1.0",
    entries,
  });
}
