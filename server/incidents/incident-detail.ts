import { and, asc, eq, min, notLike, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import type { TenantContext } from "@/server/context";
import type { evacuations, incidents } from "@/db/schema";
import { incidentPages, logEntries } from "@/db/schema";
import { iso } from "@/server/core/time";
import { fillPlaybook } from "@/server/playbooks/catalog";
import type { PlaybookKey } from "@/server/playbooks/catalog";
import { getPolicy } from "@/server/policy/thresholds";
import type { Policy } from "@/server/policy/thresholds";
import {
  evacuationsOf,
  getIncidentRowForTenant,
  getIncidentTimeline,
  incidentView,
} from "./incidents";

type IncidentRow = typeof incidents.$inferSelect;
type EvacuationRow = typeof evacuations.$inferSelect;

// The incident's first and latest error by the errors' own times. `openedAt` is when the platform
// opened the incident (after the first error arrived; a spooled or late event arrives much later),
// so it is not the first error: beside lastErrorAt (an event time) it could even come after it.
export async function errorSpan(db: Db, row: IncidentRow) {
  const [r] = await db
    .select({ first: min(logEntries.timestamp) })
    .from(logEntries)
    .where(eq(logEntries.incidentId, row.id));
  // no entries left (retention): the platform's own times, in order
  const first =
    r?.first ??
    new Date(Math.min(row.openedAt.getTime(), row.lastErrorAt.getTime()));
  return { firstErrorAt: first, lastErrorAt: row.lastErrorAt };
}

// The incident's playbook filled with its facts (the incident page, and the overview's banners).
export async function fillIncidentPlaybook(
  db: Db,
  row: IncidentRow,
  evac: EvacuationRow | null,
  policy?: Policy,
) {
  const p = policy ?? (await getPolicy(db));
  const span = await errorSpan(db, row);
  const pages = await db
    .select({ pageKey: incidentPages.pageKey })
    .from(incidentPages)
    .where(
      and(
        eq(incidentPages.incidentId, row.id),
        notLike(incidentPages.pageKey, "unlocated:%"),
      ),
    )
    .orderBy(asc(incidentPages.firstSeenAt))
    .limit(20);
  // the page count of the summary line, so the listed pages and "and n more" add up to distinctPages
  const [counts] = await rawRows<{ located: number; unlocated: number }>(
    db,
    sql`select count(*) filter (where page_key not like 'unlocated:%')::int as located,
               count(*) filter (where page_key like 'unlocated:%')::int as unlocated
        from incident_pages where incident_id = ${row.id}`,
  );
  // how the errors were reported, and whose memory they hit (QEMU's recipient)
  const reports = await db
    .selectDistinct({
      mechanism: sql<string>`${logEntries.jsonPayload}->>'mechanism'`,
      recipient: sql<
        string | null
      >`${logEntries.jsonPayload}->'qemu'->>'recipient'`,
    })
    .from(logEntries)
    .where(eq(logEntries.incidentId, row.id));
  return fillPlaybook(row.playbookKey as PlaybookKey, {
    vmId: row.vmId,
    vmName: row.vmName,
    projectId: row.projectId,
    zone: row.zone,
    ...span,
    errorCount: row.errorCount,
    distinctPages: row.distinctPages,
    threshold: p.vmPages,
    windowSeconds: p.windowSeconds,
    gpas: pages.map((x) => x.pageKey),
    locatedPages: Number(counts?.located ?? pages.length),
    pagesWithoutAddress: Number(counts?.unlocated ?? 0),
    actions: row.actions,
    mechanisms: [...new Set(reports.map((r) => r.mechanism))],
    hypervisorMemory: reports.some((r) => r.recipient === "hypervisor"),
    guestMemory: reports.some((r) => r.recipient !== "hypervisor"),
    guestMode: row.guestMode as "user" | "kernel" | "unknown",
    arch: row.arch as "arm64" | "x86_64",
    severity: row.severity,
    evacuation: evac
      ? { status: evac.status, scheduledFor: evac.scheduledFor }
      : null,
  });
}

// The single incident: list shape + timeline + the playbook filled with its facts.
export async function getIncidentDetail(
  ctx: TenantContext,
  input: { incidentId: string },
) {
  const { db, tenantId } = ctx;
  const id = input.incidentId;
  const row = await getIncidentRowForTenant(db, tenantId, id);
  const [evacs, timeline] = [
    await evacuationsOf(db, [row.id]),
    await getIncidentTimeline(db, row.id),
  ];
  const evac = evacs.get(row.id) ?? null;
  const view = incidentView(row, evac);
  const filled = await fillIncidentPlaybook(db, row, evac);
  const span = await errorSpan(db, row);
  return {
    ...view,
    firstErrorAt: iso(span.firstErrorAt),
    lastErrorAt: iso(span.lastErrorAt),
    playbook: {
      key: filled.key,
      version: filled.version,
      title: filled.title,
      steps: filled.steps,
    },
    timeline,
  };
}
