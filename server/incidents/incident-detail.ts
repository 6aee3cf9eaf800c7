import { and, asc, eq, notLike, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import type { TenantContext } from "@/server/context";
import type { evacuations, incidents } from "@/db/schema";
import { incidentPages, logEntries } from "@/db/schema";
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

// The incident's playbook filled with its facts (the incident page, and the overview's banners).
export async function fillIncidentPlaybook(
  db: Db,
  row: IncidentRow,
  evac: EvacuationRow | null,
  policy?: Policy,
) {
  const p = policy ?? (await getPolicy(db));
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
    openedAt: row.openedAt,
    lastErrorAt: row.lastErrorAt,
    errorCount: row.errorCount,
    distinctPages: row.distinctPages,
    threshold: p.vmPages,
    windowSeconds: p.windowSeconds,
    gpas: pages.map((x) => x.pageKey),
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
  return {
    ...view,
    playbook: {
      key: filled.key,
      version: filled.version,
      title: filled.title,
      steps: filled.steps,
    },
    timeline,
  };
}
