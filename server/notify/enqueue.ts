import { eq, inArray, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { sendInTx } from "@/server/jobs/boss";
import { rawRows } from "@/db/client";
import { getDbHandle } from "@/db";
import { severityRank } from "@/db/constants";
import type { evacuations } from "@/db/schema";
import { incidents, logEntries, vms } from "@/db/schema";
import { iso } from "@/server/core/time";
import { evacuationsOf, incidentView } from "@/server/incidents/incidents";
import type { IncidentChange } from "@/server/incidents/record-events";
import { logEntryView } from "@/server/incidents/log-entry";
import { getPolicy } from "@/server/policy/thresholds";
import type { Policy } from "@/server/policy/thresholds";
import { queueEmail } from "./email-queue";
import { consoleUrls, tenantNotifyInfo } from "./recipients";
import type { TenantNotifyInfo } from "./recipients";
import type { OutgoingWebhook, WebhookEndpointRow } from "./webhook-messages";
import {
  emitCallback,
  emitWebhooks,
  isSubscribed,
  loadEnabledEndpoints,
} from "./webhook-messages";

// The notification seam: every function here runs inside the transaction of the change that
// causes it, so a committed change always has its notification work recorded (and nothing else).

type IncidentRow = typeof incidents.$inferSelect;
type EvacuationRow = typeof evacuations.$inferSelect;
type IncidentMessageType =
  "incident.opened" | "incident.updated" | "incident.resolved";

// What happened to an incident since its last notification. pendingChanges holds these tags plus
// one "base:<errorCount>:<distinctPages>" taken before the first of them, for the summary line.
type ChangeNote = {
  incidentId: string;
  tags: string[];
  newErrors: number;
  newPages: number;
};

const BASE_PREFIX = "base:";

export function describeChanges(
  pending: string[],
  row: Pick<IncidentRow, "errorCount" | "distinctPages" | "severity">,
): string {
  const base = pending.find((t) => t.startsWith(BASE_PREFIX));
  const [baseErrors, basePages] = base
    ? base.slice(BASE_PREFIX.length).split(":").map(Number)
    : [row.errorCount, row.distinctPages];
  const parts: string[] = [];
  if (pending.includes("severity"))
    parts.push(`severity raised to ${row.severity}`);
  const errors = Math.max(0, row.errorCount - (baseErrors ?? row.errorCount));
  const pages = Math.max(
    0,
    row.distinctPages - (basePages ?? row.distinctPages),
  );
  if (errors > 0) {
    parts.push(
      pages > 0
        ? `${errors} new ${errors === 1 ? "error" : "errors"} on ${pages} new distinct ${pages === 1 ? "page" : "pages"}`
        : `${errors} new ${errors === 1 ? "error" : "errors"} on pages already known`,
    );
  }
  if (pending.includes("evacuation_scheduled"))
    parts.push("a restart on a healthy host is scheduled");
  if (pending.includes("evacuation_rescheduled"))
    parts.push("the restart on a healthy host was moved");
  if (pending.includes("evacuation_completed"))
    parts.push("the VM was moved to a healthy host");
  if (pending.includes("evacuation_cancelled"))
    parts.push("the scheduled restart on a healthy host was cancelled");
  if (pending.includes("resolved"))
    parts.push("no new memory error for the quiet period: resolved");
  if (pending.includes("vm_deleted"))
    parts.push("the VM was deleted: resolved");
  return parts.length ? parts.join("; ") : "incident updated";
}

function messageTypeOf(row: IncidentRow): IncidentMessageType {
  return row.status === "resolved" ? "incident.resolved" : "incident.updated";
}

const EMAIL_KIND: Record<
  IncidentMessageType,
  "incident_opened" | "incident_updated" | "incident_resolved"
> = {
  "incident.opened": "incident_opened",
  "incident.updated": "incident_updated",
  "incident.resolved": "incident_resolved",
};

// One message per subscriber and one email per recipient for each incident, then the incident
// is marked notified (the coalescing window starts again).
async function emitIncidentMessages(
  tx: Db,
  list: { row: IncidentRow; type: IncidentMessageType; change?: string }[],
  at: Date,
  ctx: {
    endpoints?: Map<string, WebhookEndpointRow[]>;
    infos?: Map<string, TenantNotifyInfo>;
  } = {},
): Promise<void> {
  if (!list.length) return;
  const tenantIds = list.map((l) => l.row.tenantId);
  const evacs = await evacuationsOf(
    tx,
    list.map((l) => l.row.id),
  );
  const views = list.map((l) => ({
    ...l,
    view: incidentView(l.row, evacs.get(l.row.id) ?? null),
  }));
  await emitWebhooks(
    tx,
    views.map((v) => ({
      tenantId: v.row.tenantId,
      type: v.type,
      projectId: v.row.projectId,
      data: v.view,
    })),
    at,
    { endpoints: ctx.endpoints ?? (await loadEnabledEndpoints(tx, tenantIds)) },
  );
  const infos = ctx.infos ?? (await tenantNotifyInfo(tx, tenantIds));
  const urls = consoleUrls();
  for (const v of views) {
    const info = infos.get(v.row.tenantId);
    if (!info || severityRank(v.row.severity) < severityRank(info.minSeverity))
      continue;
    for (const to of info.recipients) {
      await queueEmail(tx, {
        tenantId: v.row.tenantId,
        to: [to],
        template: {
          kind: EMAIL_KIND[v.type],
          props: {
            tenantName: info.tenantName,
            consoleUrl: urls.consoleUrl,
            manageUrl: urls.manageUrl,
            incident: v.view,
            ...(v.change ? { change: v.change } : {}),
          },
        },
        incidentId: v.row.id,
        dedupeKey: `${v.type}:${v.row.id}:${iso(at)}`,
        at,
      });
    }
  }
  await tx
    .update(incidents)
    .set({ lastNotifiedAt: at, notifyDueAt: null, pendingChanges: [] })
    .where(
      inArray(
        incidents.id,
        list.map((l) => l.row.id),
      ),
    );
}

// Coalescing: a change waits until lastNotifiedAt + coalesceSeconds; whatever gathers meanwhile
// goes out as one incident.updated (or incident.resolved) per subscriber.
async function noteIncidentChanges(
  tx: Db,
  notes: ChangeNote[],
  rows: Map<string, IncidentRow>,
  at: Date,
  ctx: {
    endpoints?: Map<string, WebhookEndpointRow[]>;
    coalesceSeconds?: number;
  } = {},
): Promise<void> {
  if (!notes.length) return;
  const coalesceMs =
    (ctx.coalesceSeconds ?? (await getPolicy(tx)).coalesceSeconds) * 1000;
  type Merged = {
    row: IncidentRow;
    pending: string[];
    dueAt: Date;
    wasDue: boolean;
    changed: boolean;
  };
  const merged = new Map<string, Merged>();
  for (const n of notes) {
    const row = rows.get(n.incidentId);
    if (!row) continue;
    const cur: Merged = merged.get(row.id) ?? {
      row,
      pending: [...row.pendingChanges],
      // never announced yet (its incident.opened goes out later in this same transaction and
      // carries the state as it is then): nothing may overtake it
      dueAt:
        row.notifyDueAt ??
        new Date(
          row.lastNotifiedAt
            ? Math.max(at.getTime(), row.lastNotifiedAt.getTime() + coalesceMs)
            : at.getTime() + coalesceMs,
        ),
      wasDue: row.notifyDueAt !== null,
      changed: row.notifyDueAt === null,
    };
    if (!cur.pending.some((t) => t.startsWith(BASE_PREFIX))) {
      cur.pending.unshift(
        `${BASE_PREFIX}${row.errorCount - n.newErrors}:${row.distinctPages - n.newPages}`,
      );
      cur.changed = true;
    }
    for (const t of n.tags) {
      if (cur.pending.includes(t)) continue;
      cur.pending.push(t);
      cur.changed = true;
    }
    merged.set(row.id, cur);
  }
  const immediate: {
    row: IncidentRow;
    type: IncidentMessageType;
    change: string;
  }[] = [];
  const deferred: Merged[] = [];
  for (const m of merged.values()) {
    if (m.dueAt.getTime() <= at.getTime()) {
      immediate.push({
        row: m.row,
        type: messageTypeOf(m.row),
        change: describeChanges(m.pending, m.row),
      });
    } else if (m.changed) {
      // a storm mostly repeats what is already pending: nothing to write then
      deferred.push(m);
    }
  }
  if (deferred.length) {
    const values = sql.join(
      deferred.map(
        (d) =>
          sql`(${d.row.id}::text, ${d.dueAt.toISOString()}::timestamptz, ${JSON.stringify(d.pending)}::jsonb)`,
      ),
      sql`, `,
    );
    await tx.execute(sql`
      update incidents as i set notify_due_at = v.due, pending_changes = v.pending
      from (values ${values}) as v(id, due, pending) where i.id = v.id`);
    for (const d of deferred) {
      if (d.wasDue) continue;
      // the timer for the flush; the maintenance tick flushes it anyway if the job is lost
      const seconds = Math.max(
        1,
        Math.ceil((d.dueAt.getTime() - at.getTime()) / 1000),
      );
      await sendInTx(
        await getDbHandle(),
        tx,
        "notify-incident",
        { incidentId: d.row.id },
        { startAfter: seconds },
      );
    }
  }
  await emitIncidentMessages(tx, immediate, at, { endpoints: ctx.endpoints });
}

async function loadIncidentRows(
  tx: Db,
  ids: string[],
): Promise<Map<string, IncidentRow>> {
  if (!ids.length) return new Map();
  const rows = await tx
    .select()
    .from(incidents)
    .where(inArray(incidents.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r]));
}

// Incident opened / updated (new errors, severity) / resolved: coalesced per incident over
// policy.coalesceSeconds; memory_error.detected per new log entry for subscribers that opted in.
export async function enqueueIncidentNotifications(
  tx: Db,
  changes: IncidentChange[],
  at: Date,
  opts: { policy?: Pick<Policy, "coalesceSeconds"> } = {},
): Promise<void> {
  if (!changes.length) return;
  const tenantIds = [...new Set(changes.map((c) => c.tenantId))];
  const [endpoints, rows] = await Promise.all([
    loadEnabledEndpoints(tx, tenantIds),
    loadIncidentRows(
      tx,
      changes.map((c) => c.incidentId),
    ),
  ]);

  const opened = changes.filter(
    (c) => c.kind === "opened" && rows.has(c.incidentId),
  );
  await emitIncidentMessages(
    tx,
    opened.map((c) => ({
      row: rows.get(c.incidentId)!,
      type: "incident.opened" as const,
    })),
    at,
    { endpoints },
  );

  const notes: ChangeNote[] = changes
    .filter((c) => c.kind !== "opened")
    .map((c) => {
      const tags =
        c.kind !== "resolved" ? ["errors"] : [c.resolvedBecause ?? "resolved"];
      if (c.severityRaised) tags.push("severity");
      return {
        incidentId: c.incidentId,
        tags,
        newErrors: c.logEntryIds.length,
        newPages: c.newPages,
      };
    });
  await noteIncidentChanges(tx, notes, rows, at, {
    endpoints,
    coalesceSeconds: opts.policy?.coalesceSeconds,
  });

  // memory_error.detected: opt-in, one message per new log entry, never coalesced
  const wanting = changes.filter((c) =>
    (endpoints.get(c.tenantId) ?? []).some((ep) =>
      isSubscribed(ep, "memory_error.detected", c.projectId),
    ),
  );
  // the log entries are usually at hand (written by this transaction); otherwise read them
  const entries = wanting.flatMap((c) => c.logEntries ?? []);
  const entryIds = wanting
    .filter((c) => !c.logEntries)
    .flatMap((c) => c.logEntryIds);
  if (entries.length || entryIds.length) {
    for (let i = 0; i < entryIds.length; i += 1000) {
      entries.push(
        ...(await tx
          .select()
          .from(logEntries)
          .where(inArray(logEntries.id, entryIds.slice(i, i + 1000)))),
      );
    }
    entries.sort(
      (a, b) =>
        a.timestamp.getTime() - b.timestamp.getTime() ||
        a.id.localeCompare(b.id),
    );
    await emitWebhooks(
      tx,
      entries.map((e) => ({
        tenantId: e.tenantId,
        type: "memory_error.detected",
        projectId: e.projectId,
        data: logEntryView(e),
      })),
      at,
      { endpoints },
    );
  }
}

// Evacuation scheduled / rescheduled / completed / cancelled: tenant webhooks (vm.evacuation_*),
// the incident email, and the control-plane callbacks: vm.evacuation_requested when scheduled,
// vm.evacuation_rescheduled when its time moved, vm.evacuation_cancelled when cancelled.
export async function enqueueEvacuationNotifications(
  tx: Db,
  e: {
    evacuation: EvacuationRow;
    kind: "scheduled" | "rescheduled" | "completed" | "cancelled";
    at: Date;
    policy?: Pick<Policy, "coalesceSeconds">;
    // why a cancelled evacuation was cancelled, for the control plane
    cancelledBecause?: "operator" | "vm_deleted";
    // why a rescheduled evacuation moved, and from when
    rescheduledBecause?:
      | "tenant_start_now"
      | "tenant_defer"
      | "maintenance_window"
      | "operator_start_now";
    // the time a maintenance window chose for a new evacuation: the tenant's vm.evacuation_scheduled already says it
    controlPlaneOnly?: boolean;
  },
): Promise<void> {
  const ev = e.evacuation;
  const about = {
    evacuationId: ev.id,
    vmId: ev.vmId,
    projectId: ev.projectId,
    tenantId: ev.tenantId,
    hostId: ev.hostId,
  };
  if (e.kind === "rescheduled" && e.controlPlaneOnly) {
    await emitCallback(
      tx,
      "vm.evacuation_rescheduled",
      reschedulePayload(ev, e.rescheduledBecause ?? "maintenance_window"),
      e.at,
    );
    return;
  }
  const rows = await loadIncidentRows(tx, ev.incidentId ? [ev.incidentId] : []);
  const incident = ev.incidentId ? rows.get(ev.incidentId) : undefined;
  const [vm] = await tx
    .select({ name: vms.name })
    .from(vms)
    .where(eq(vms.id, ev.vmId));
  const endpoints = await loadEnabledEndpoints(tx, [ev.tenantId]);
  const item: OutgoingWebhook = {
    tenantId: ev.tenantId,
    type: `vm.evacuation_${e.kind}`,
    projectId: ev.projectId,
    data: {
      evacuationId: ev.id,
      vm: {
        id: ev.vmId,
        name: vm?.name ?? incident?.vmName ?? ev.vmId,
        projectId: ev.projectId,
      },
      incidentId: ev.incidentId,
      scheduledFor: iso(ev.scheduledFor),
      // what drove the evacuation; for vm.evacuation_rescheduled, what moved it
      reason:
        e.kind === "rescheduled"
          ? (e.rescheduledBecause ?? "tenant_defer")
          : e.kind === "cancelled"
            ? (e.cancelledBecause ?? "operator")
            : ev.reason,
    },
  };
  await emitWebhooks(tx, [item], e.at, { endpoints });
  if (incident) {
    await noteIncidentChanges(
      tx,
      [
        {
          incidentId: incident.id,
          tags: [`evacuation_${e.kind}`],
          newErrors: 0,
          newPages: 0,
        },
      ],
      rows,
      e.at,
      {
        endpoints,
        coalesceSeconds: e.policy?.coalesceSeconds,
      },
    );
  }
  // the control plane: asked to restart the VM, told when the time moves, and when it should not after all
  if (e.kind === "scheduled") {
    const data = {
      ...about,
      reason: ev.reason,
      distinctPages: ev.distinctPages,
      requestedAt: iso(ev.requestedAt),
    };
    await emitCallback(tx, "vm.evacuation_requested", data, e.at);
  } else if (e.kind === "rescheduled") {
    await emitCallback(
      tx,
      "vm.evacuation_rescheduled",
      reschedulePayload(ev, e.rescheduledBecause ?? "tenant_defer"),
      e.at,
    );
  } else if (e.kind === "cancelled") {
    const data = {
      ...about,
      reason: e.cancelledBecause ?? "operator",
      cancelledAt: iso(ev.cancelledAt ?? e.at),
    };
    await emitCallback(tx, "vm.evacuation_cancelled", data, e.at);
  }
}

function reschedulePayload(ev: EvacuationRow, reason: string) {
  return {
    evacuationId: ev.id,
    vmId: ev.vmId,
    scheduledFor: iso(ev.scheduledFor),
    deadline: iso(ev.deadline),
    reason,
  };
}

// Emits every coalesced incident notification whose time has come. Safe from several processes
// at once: incidents are claimed with SKIP LOCKED.
export async function flushDueIncidentNotifications(
  db: Db,
  at: Date,
  opts: { max?: number } = {},
): Promise<number> {
  const max = opts.max ?? 1000;
  let done = 0;
  while (done < max) {
    const n = await db.transaction(async (tx) => {
      const due = await rawRows<{ id: string }>(
        tx,
        sql`select id from incidents where notify_due_at <= ${at.toISOString()}::timestamptz
            order by notify_due_at limit ${Math.min(100, max - done)} for update skip locked`,
      );
      if (!due.length) return 0;
      const rows = await loadIncidentRows(
        tx,
        due.map((d) => d.id),
      );
      await emitIncidentMessages(
        tx,
        [...rows.values()].map((row) => ({
          row,
          type: messageTypeOf(row),
          change: describeChanges(row.pendingChanges, row),
        })),
        at,
      );
      return rows.size;
    });
    if (!n) break;
    done += n;
  }
  return done;
}
