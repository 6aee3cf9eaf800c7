import { and, desc, eq, inArray, max } from "drizzle-orm";
import { auditLog, evacuations, incidents, tenants, vms } from "@/db/schema";
import type { TenantContext } from "@/server/context";
import { env } from "@/server/env";
import { renderCalendar } from "./icalendar";
import type { IcsEvent } from "./icalendar";

export const EVACUATIONS_FEED_SIZE = 200;
// An evacuation is a restart: the calendar shows a nominal window from its start (the end of a
// restart is not known in advance, and DTEND must not move without a new SEQUENCE).
export const EVACUATION_EVENT_MINUTES = 15;

const WHY: Record<string, (pages: number) => string> = {
  guest_kernel: () => "the guest kernel consumed an uncorrectable memory error",
  distinct_pages: (n) =>
    `it had uncorrectable memory errors on ${n} distinct page${n === 1 ? "" : "s"}`,
  host_evacuate: () => "its host had too many uncorrectable memory errors",
  operator: () => "the platform operator requested it",
};

const STATUS_WORDS: Record<string, string> = {
  scheduled: "scheduled",
  in_progress: "in progress",
  completed: "completed",
  cancelled: "cancelled",
};

// The tenant's newest evacuations (by request time), one VEVENT each. SEQUENCE is the number of
// reschedules (start now, defer), so a calendar replaces the event it had; DTSTAMP is the last
// change: the newest of its status times and of the audited reschedules and cancellation.
export async function getEvacuationsFeed(ctx: TenantContext): Promise<string> {
  const base = env().publicUrl;
  const [tenant] = await ctx.db
    .select({ name: tenants.name })
    .from(tenants)
    .where(eq(tenants.id, ctx.tenantId));
  const rows = await ctx.db
    .select()
    .from(evacuations)
    .where(eq(evacuations.tenantId, ctx.tenantId))
    .orderBy(desc(evacuations.requestedAt), desc(evacuations.id))
    .limit(EVACUATIONS_FEED_SIZE);
  const ids = rows.map((r) => r.id);
  const incidentIds = rows.flatMap((r) => (r.incidentId ? [r.incidentId] : []));
  const vmIds = [...new Set(rows.map((r) => r.vmId))];
  const [changes, names, vmNames] = ids.length
    ? await Promise.all([
        ctx.db
          .select({ target: auditLog.target, at: max(auditLog.at) })
          .from(auditLog)
          .where(
            and(
              eq(auditLog.tenantId, ctx.tenantId),
              inArray(auditLog.target, ids),
            ),
          )
          .groupBy(auditLog.target),
        incidentIds.length
          ? ctx.db
              .select({ id: incidents.id, vmName: incidents.vmName })
              .from(incidents)
              .where(
                and(
                  eq(incidents.tenantId, ctx.tenantId),
                  inArray(incidents.id, incidentIds),
                ),
              )
          : Promise.resolve([]),
        ctx.db
          .select({ id: vms.id, name: vms.name })
          .from(vms)
          .where(and(eq(vms.tenantId, ctx.tenantId), inArray(vms.id, vmIds))),
      ])
    : [[], [], []];
  const changedAt = new Map(
    changes.flatMap((c) =>
      c.target && c.at ? [[c.target, new Date(c.at)]] : [],
    ),
  );
  const incidentVmName = new Map(names.map((n) => [n.id, n.vmName]));
  const vmName = new Map(vmNames.map((v) => [v.id, v.name]));

  const events: IcsEvent[] = rows.map((e) => {
    const name =
      (e.incidentId ? incidentVmName.get(e.incidentId) : undefined) ??
      vmName.get(e.vmId) ??
      e.vmId;
    const stamp = [
      e.requestedAt,
      e.startedAt,
      e.completedAt,
      e.cancelledAt,
      changedAt.get(e.id) ?? null,
    ].reduce<Date>((m, d) => (d && d > m ? d : m), e.requestedAt);
    const url = e.incidentId
      ? `${base}/incidents/${encodeURIComponent(e.incidentId)}`
      : `${base}/vms/${encodeURIComponent(e.vmId)}`;
    const status = STATUS_WORDS[e.status] ?? e.status;
    const why = (WHY[e.reason] ?? (() => e.reason))(e.distinctPages);
    const description = [
      `Poisonwatch restarts VM ${name} (${e.vmId}, project ${e.projectId}) on a healthy host because ${why}.`,
      `Status: ${status}.`,
      `Scheduled for ${e.scheduledFor.toISOString()}; it is never later than ${e.deadline.toISOString()}.`,
      ...(e.rescheduleCount
        ? [
            `Rescheduled ${e.rescheduleCount} time${e.rescheduleCount === 1 ? "" : "s"}.`,
          ]
        : []),
      `Details and the start-now and defer buttons: ${url}`,
    ].join("\n");
    return {
      uid: e.id,
      stamp,
      created: e.requestedAt,
      start: e.scheduledFor,
      durationMinutes: EVACUATION_EVENT_MINUTES,
      sequence: e.rescheduleCount,
      status: e.status === "cancelled" ? "CANCELLED" : "CONFIRMED",
      summary:
        e.status === "cancelled"
          ? `Cancelled: restart of ${name} on a healthy host`
          : `Restart of ${name} on a healthy host`,
      description,
      url,
      categories: ["Poisonwatch", status],
    };
  });
  return renderCalendar({
    name: `Poisonwatch restarts — ${tenant?.name ?? ctx.tenantId}`,
    description:
      "When Poisonwatch restarts this tenant's VMs on healthy hosts after memory errors",
    refreshMinutes: 60,
    events,
  });
}
