import { and, asc, desc, eq, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { EVACUATION_STATUSES } from "@/db/constants";
import { newId } from "@/db/ids";
import { evacuations, incidents, incidentTimeline, vms } from "@/db/schema";
import { audit } from "@/server/audit";
import { now } from "@/server/clock";
import type { ServiceContext, TenantContext } from "@/server/context";
import { ConflictError, NotFoundError, ValidationError } from "@/server/errors";
import {
  decodeCursor,
  keysetAfter,
  ListQuery,
  page,
} from "@/server/core/cursor";
import { iso, Rfc3339 } from "@/server/core/time";
import { OperatorId } from "@/server/core/validation";
import type { VmChange } from "@/server/inventory/vms";
import { enqueueEvacuationNotifications } from "@/server/notify/enqueue";
import { choosePlaybookKey, getPlaybookMeta } from "@/server/playbooks/catalog";
import type { PlaybookKey } from "@/server/playbooks/catalog";
import { hostSummaries, latestEvacuations, vmSummaries } from "./host-health";
import type { EvacuationReason } from "./policy";
import { decideHostVm } from "./policy";
import type { Policy } from "./thresholds";
import { getPolicy } from "./thresholds";
import { maintenanceWindowsOf, nextOpening } from "./maintenance-window";

// The evacuation workflow: scheduled (tenant and control plane told) → in_progress at scheduledFor
// → completed when the inventory shows the VM on another host; an operator can cancel it before.
// QEMU cannot live-migrate a VM with poisoned pages, so an evacuation is a restart on a healthy host.
//
// Lock order, so that ingestion, inventory moves and operator calls never wait on each other in a
// cycle: a VM's unresolved incident row first, then its evacuation rows. Ingestion already holds
// its own VMs' incidents; it takes other VMs' (host evacuation) with SKIP LOCKED only.

export type EvacuationRow = typeof evacuations.$inferSelect;
type IncidentRow = typeof incidents.$inferSelect;

// Time between the decision and the restart: the tenant gets notice to fail over or drain.
export const EVACUATION_LEAD_SECONDS = 15 * 60;

const ACTIVE = ["scheduled", "in_progress"] as const;

export type EvacuationRequest = {
  vmId: string;
  reason: EvacuationReason;
  // the count that drove the decision: the VM's distinct pages, or its host's for host_evacuate
  distinctPages: number;
  requestedBy: "policy" | "operator";
  scheduledFor?: Date;
};

function reasonText(
  r: Pick<EvacuationRow, "reason" | "distinctPages">,
  policy: Pick<Policy, "windowSeconds">,
): string {
  const hours = Math.round(policy.windowSeconds / 3600);
  switch (r.reason) {
    case "distinct_pages":
      return `${r.distinctPages} distinct poisoned pages within ${hours} h`;
    case "guest_kernel":
      return "the guest kernel consumed an uncorrectable memory error";
    case "host_evacuate":
      // host identities are operator data: the tenant learns only that the hardware is failing
      return "the host's memory shows too many errors";
    default:
      return "requested by the platform operator";
  }
}

function timelineRow(
  inc: Pick<IncidentRow, "id" | "tenantId">,
  at: Date,
  kind: string,
  summary: string,
) {
  return {
    id: newId("tle"),
    incidentId: inc.id,
    tenantId: inc.tenantId,
    at,
    kind,
    summary,
    logEntryId: null,
  };
}

// Unresolved incidents of these VMs (as the inventory has them now: an incident of a deleted VM with
// the same id is not theirs), locked for this transaction. With skipLocked, a VM whose incident
// another transaction holds is reported busy: that transaction is changing the VM.
async function lockIncidents(
  tx: Db,
  vmIds: string[],
  opts: { skipLocked: boolean },
) {
  const incidentOf = new Map<string, IncidentRow>();
  const busy = new Set<string>();
  if (!vmIds.length) return { incidentOf, busy };
  const sorted = [...new Set(vmIds)].sort();
  const current = tx
    .select({ incarnation: vms.incarnation })
    .from(vms)
    .where(inArray(vms.id, sorted));
  const unresolved = and(
    inArray(incidents.vmIncarnation, current),
    ne(incidents.status, "resolved"),
  );
  const q = tx
    .select()
    .from(incidents)
    .where(unresolved)
    .orderBy(asc(incidents.vmId));
  const rows = opts.skipLocked
    ? await q.for("update", { skipLocked: true })
    : await q.for("update");
  for (const r of rows) incidentOf.set(r.vmId, r);
  if (opts.skipLocked) {
    const all = await tx
      .select({ vmId: incidents.vmId })
      .from(incidents)
      .where(unresolved);
    for (const r of all) if (!incidentOf.has(r.vmId)) busy.add(r.vmId);
  }
  return { incidentOf, busy };
}

async function setIncidentsEvacuating(
  tx: Db,
  rows: IncidentRow[],
  evacs: EvacuationRow[],
  at: Date,
  policy: Policy,
  windowed = new Set<string>(),
) {
  if (!rows.length) return;
  const meta = getPlaybookMeta("evacuation-scheduled");
  const updated = await tx
    .update(incidents)
    .set({
      status: "evacuating",
      playbookKey: meta.key,
      playbookVersion: meta.version,
      updatedAt: at,
      version: sql`${incidents.version} + 1`,
    })
    .where(
      and(
        inArray(
          incidents.id,
          rows.map((r) => r.id),
        ),
        eq(incidents.status, "open"),
      ),
    )
    .returning({ id: incidents.id });
  const changed = new Set(updated.map((u) => u.id));
  const evacOf = new Map(evacs.map((e) => [e.incidentId, e]));
  const timeline = [];
  for (const r of rows) {
    const e = evacOf.get(r.id);
    if (!e) continue;
    timeline.push(
      timelineRow(
        r,
        at,
        "evacuation_scheduled",
        `A restart on a healthy host is scheduled for ${iso(e.scheduledFor)}${windowed.has(e.vmId) ? " (the project's maintenance window)" : ""}: ${reasonText(e, policy)}; it can be moved up to ${iso(e.deadline)}`,
      ),
    );
    if (changed.has(r.id) && r.playbookKey !== meta.key)
      timeline.push(
        timelineRow(
          r,
          at,
          "playbook_changed",
          `Playbook changed to "${meta.title}"`,
        ),
      );
  }
  if (timeline.length) await tx.insert(incidentTimeline).values(timeline);
}

// Back to `open` after a completed or cancelled evacuation; resolve-quiet.ts resolves it after the
// quiet period.
async function reopenIncident(
  tx: Db,
  inc: IncidentRow,
  outcome: "completed" | "cancelled",
  at: Date,
  summary: string,
) {
  const key = choosePlaybookKey({
    eventPlaybook: inc.eventPlaybook as PlaybookKey,
    distinctPages: inc.distinctPages,
    evacuation: { status: outcome },
  });
  const meta = getPlaybookMeta(key);
  await tx
    .update(incidents)
    .set({
      status: "open",
      playbookKey: meta.key,
      playbookVersion: meta.version,
      updatedAt: at,
      version: sql`${incidents.version} + 1`,
    })
    .where(and(eq(incidents.id, inc.id), eq(incidents.status, "evacuating")));
  const timeline = [timelineRow(inc, at, `evacuation_${outcome}`, summary)];
  if (meta.key !== inc.playbookKey)
    timeline.push(
      timelineRow(
        inc,
        at,
        "playbook_changed",
        `Playbook changed to "${meta.title}"`,
      ),
    );
  await tx.insert(incidentTimeline).values(timeline);
}

// Records one evacuation per VM that is running and has none active, moves its incident to
// `evacuating`, and queues the tenant's and the control plane's notifications, all in tx.
// Returns the evacuations it made (a VM skipped for any reason is simply absent).
export async function scheduleEvacuations(
  tx: Db,
  requests: EvacuationRequest[],
  at: Date,
  opts: { skipLocked: boolean; policy?: Policy },
): Promise<EvacuationRow[]> {
  const byVm = new Map<string, EvacuationRequest>();
  for (const r of requests) if (!byVm.has(r.vmId)) byVm.set(r.vmId, r);
  if (!byVm.size) return [];
  const policy = opts.policy ?? (await getPolicy(tx));
  const ids = [...byVm.keys()].sort();
  const vmRows = await tx
    .select({
      id: vms.id,
      incarnation: vms.incarnation,
      tenantId: vms.tenantId,
      projectId: vms.projectId,
      hostId: vms.hostId,
    })
    .from(vms)
    .where(inArray(vms.id, ids));
  const running = vmRows.filter((v) => v.hostId !== null);
  if (!running.length) return [];
  const { incidentOf, busy } = await lockIncidents(
    tx,
    running.map((v) => v.id),
    { skipLocked: opts.skipLocked },
  );
  const active = await tx
    .select({ vmId: evacuations.vmId })
    .from(evacuations)
    .where(
      and(
        inArray(
          evacuations.vmId,
          running.map((v) => v.id),
        ),
        inArray(evacuations.status, [...ACTIVE]),
      ),
    );
  const hasActive = new Set(active.map((a) => a.vmId));
  const chosen = running
    .filter((v) => !busy.has(v.id) && !hasActive.has(v.id))
    .sort((a, b) => a.id.localeCompare(b.id));
  // a project's maintenance window places an evacuation whose time nobody chose, if it opens in time
  const windows = await maintenanceWindowsOf(
    tx,
    chosen.filter((v) => !byVm.get(v.id)!.scheduledFor).map((v) => v.projectId),
  );
  const deadline = new Date(at.getTime() + policy.maxDeferSeconds * 1000);
  const windowed = new Set<string>();
  const values = chosen.map((v) => {
    const r = byVm.get(v.id)!;
    const byDefault = new Date(
      Math.min(
        at.getTime() + EVACUATION_LEAD_SECONDS * 1000,
        deadline.getTime(),
      ),
    );
    let scheduledFor = r.scheduledFor ?? byDefault;
    const w = r.scheduledFor ? undefined : windows.get(v.projectId);
    if (w) {
      const opening = nextOpening(w, byDefault);
      if (
        opening.getTime() > byDefault.getTime() &&
        opening.getTime() <= deadline.getTime()
      ) {
        scheduledFor = opening;
        windowed.add(v.id);
      }
    }
    return {
      id: newId("evac"),
      tenantId: v.tenantId,
      projectId: v.projectId,
      vmId: v.id,
      vmIncarnation: v.incarnation,
      incidentId: incidentOf.get(v.id)?.id ?? null,
      hostId: v.hostId,
      reason: r.reason,
      distinctPages: r.distinctPages,
      status: "scheduled" as const,
      requestedBy: r.requestedBy,
      requestedAt: at,
      scheduledFor,
      deadline: new Date(Math.max(deadline.getTime(), scheduledFor.getTime())),
    };
  });
  // a VM that already has an evacuation (possibly one just committed by a transaction that could
  // not see our incident) gets our incident attached to it
  const attachLater = () =>
    attachIncidentsToEvacuations(
      tx,
      running
        .filter(
          (v) => incidentOf.has(v.id) && !made.some((m) => m.vmId === v.id),
        )
        .map((v) => incidentOf.get(v.id)!.id),
      at,
      policy,
    );
  let made: EvacuationRow[] = [];
  if (!values.length) {
    await attachLater();
    return [];
  }
  // one sorted statement: concurrent schedulers meet on the partial unique index in the same order
  made = await tx
    .insert(evacuations)
    .values(values)
    .onConflictDoNothing()
    .returning();
  const incidentRows = made.flatMap((e) => {
    const inc = incidentOf.get(e.vmId);
    return inc ? [inc] : [];
  });
  await setIncidentsEvacuating(tx, incidentRows, made, at, policy, windowed);
  for (const e of made) {
    await enqueueEvacuationNotifications(tx, {
      evacuation: e,
      kind: "scheduled",
      at,
      policy,
    });
    // the control plane learns the time the window chose (the request itself names none)
    if (windowed.has(e.vmId))
      await enqueueEvacuationNotifications(tx, {
        evacuation: e,
        kind: "rescheduled",
        at,
        policy,
        rescheduledBecause: "maintenance_window",
        controlPlaneOnly: true,
      });
  }
  await attachLater();
  return made;
}

// A VM evacuated before it had an incident gets one later: the new incident joins the evacuation.
export async function attachIncidentsToEvacuations(
  tx: Db,
  incidentIds: string[],
  at: Date,
  policy: Policy,
): Promise<void> {
  if (!incidentIds.length) return;
  const rows = await rawRows<{ evac_id: string; incident_id: string }>(
    tx,
    sql`update evacuations x set incident_id = i.id
        from incidents i
        where i.id in (${sql.join(
          incidentIds.map((v) => sql`${v}`),
          sql`, `,
        )}) and i.status = 'open'
          and x.vm_incarnation = i.vm_incarnation and x.incident_id is null and x.status in ('scheduled', 'in_progress')
        returning x.id as evac_id, i.id as incident_id`,
  );
  if (!rows.length) return;
  const evacs = await tx
    .select()
    .from(evacuations)
    .where(
      inArray(
        evacuations.id,
        rows.map((r) => r.evac_id),
      ),
    );
  const incs = await tx
    .select()
    .from(incidents)
    .where(
      inArray(
        incidents.id,
        rows.map((r) => r.incident_id),
      ),
    );
  await setIncidentsEvacuating(tx, incs, evacs, at, policy);
}

// When the VM shows up on another host, its active evacuation has happened. A VM placed on a host
// in `evacuate` (new, or moved there) is evacuated too.
export async function onVmPlacementChanged(
  db: Db,
  change: VmChange,
): Promise<void> {
  if (change.hostId === null) return; // stopped: the restart has not happened yet
  const at = now();
  const [active] = await db
    .select()
    .from(evacuations)
    .where(
      and(
        eq(evacuations.vmId, change.vmId),
        inArray(evacuations.status, [...ACTIVE]),
      ),
    );
  if (active && active.hostId !== change.hostId) {
    await completeEvacuation(db, active, change.at, at);
  }
  const policy = await getPolicy(db);
  const host = (await hostSummaries(db, [change.hostId], at, policy)).get(
    change.hostId,
  );
  if (!host) return;
  const latest = (await latestEvacuations(db, [change.vmId])).get(change.vmId);
  if (
    latest &&
    (latest.status === "scheduled" || latest.status === "in_progress")
  )
    return;
  if (
    !decideHostVm(host, policy, {
      cancelledAt: latest?.status === "cancelled" ? latest.cancelledAt : null,
    })
  )
    return;
  await scheduleEvacuations(
    db,
    [
      {
        vmId: change.vmId,
        reason: "host_evacuate",
        distinctPages: host.distinctPages,
        requestedBy: "policy",
      },
    ],
    at,
    { skipLocked: false, policy },
  );
}

// The evacuation's incident, locked. It may have joined the evacuation after our first lock (a
// concurrent ingestion opened it); that transaction has committed once we hold the evacuation row.
async function incidentOfEvacuation(
  tx: Db,
  evac: EvacuationRow,
  locked: Map<string, IncidentRow>,
) {
  if (!evac.incidentId) return undefined;
  const held = locked.get(evac.vmId);
  if (held?.id === evac.incidentId) {
    const [fresh] = await tx
      .select()
      .from(incidents)
      .where(eq(incidents.id, held.id));
    return fresh;
  }
  const [row] = await tx
    .select()
    .from(incidents)
    .where(eq(incidents.id, evac.incidentId))
    .for("update");
  return row;
}

async function completeEvacuation(
  tx: Db,
  evac: EvacuationRow,
  movedAt: Date,
  at: Date,
) {
  await endActive(tx, evac, at, {
    outcome: "completed",
    set: { status: "completed", completedAt: movedAt },
    why: "The VM was restarted on a healthy host; the incident resolves after a quiet period without new errors",
  });
}

// scheduled → in_progress once scheduledFor has come (the app clock). Safe from several processes.
export async function startDueEvacuations(
  db: Db,
  at: Date,
  limit = 500,
): Promise<number> {
  return db.transaction(async (tx) => {
    const started = await rawRows<{
      id: string;
      incident_id: string | null;
      tenant_id: string;
    }>(
      tx,
      sql`update evacuations set status = 'in_progress', started_at = ${at.toISOString()}::timestamptz
          where id in (select id from evacuations where status = 'scheduled' and scheduled_for <= ${at.toISOString()}::timestamptz
                       order by scheduled_for limit ${limit} for update skip locked)
          returning id, incident_id, tenant_id`,
    );
    const timeline = started
      .filter((s) => s.incident_id)
      .map((s) =>
        timelineRow(
          { id: s.incident_id!, tenantId: s.tenant_id },
          at,
          "evacuation_started",
          "The restart on a healthy host is under way",
        ),
      );
    if (timeline.length) await tx.insert(incidentTimeline).values(timeline);
    return started.length;
  });
}

// Heals what two transactions that could not see each other left behind (an incident opening
// while another transaction decides or ends an evacuation): runs with the maintenance tick.
export async function reconcileEvacuations(db: Db, at: Date): Promise<number> {
  return db.transaction(async (tx) => {
    const policy = await getPolicy(tx);
    const orphans = await rawRows<{ id: string }>(
      tx,
      sql`select i.id from evacuations x join incidents i on i.vm_incarnation = x.vm_incarnation and i.status = 'open'
          where x.status in ('scheduled', 'in_progress') and x.incident_id is null
          limit 500 for update of i skip locked`,
    );
    await attachIncidentsToEvacuations(
      tx,
      orphans.map((o) => o.id),
      at,
      policy,
    );
    const stale = await rawRows<{ id: string }>(
      tx,
      sql`select i.id from incidents i
          where i.status = 'evacuating'
            and not exists (select 1 from evacuations x where x.vm_incarnation = i.vm_incarnation and x.status in ('scheduled', 'in_progress'))
          limit 500 for update skip locked`,
    );
    if (!stale.length) return orphans.length;
    const rows = await tx
      .select()
      .from(incidents)
      .where(
        inArray(
          incidents.id,
          stale.map((r) => r.id),
        ),
      );
    const latest = await latestEvacuations(
      tx,
      rows.map((r) => r.vmId),
    );
    for (const inc of rows) {
      const outcome =
        latest.get(inc.vmId)?.status === "completed"
          ? "completed"
          : "cancelled";
      await reopenIncident(
        tx,
        inc,
        outcome,
        at,
        outcome === "completed"
          ? "The VM was restarted on a healthy host"
          : "The restart on a healthy host is no longer scheduled",
      );
    }
    return orphans.length + rows.length;
  });
}

// ---- operator calls ------------------------------------------------------------------------

export const EvacuationId = z
  .string()
  .regex(/^evac_[0-9A-HJKMNP-TV-Z]{26}$/, "must be an evacuation id (evac_…)");

export const EvacuateInput = z
  .strictObject({
    scheduledFor: Rfc3339.optional().describe(
      "when to restart; default now + 15 minutes; not in the past",
    ),
  })
  .optional();

// Idempotent: a VM with an active evacuation answers that one (created: false).
export async function requestEvacuation(
  ctx: ServiceContext,
  input: { vmId: string; scheduledFor?: string },
) {
  const { vmId } = input;
  const at = ctx.now;
  return ctx.db.transaction(async (tx) => {
    const [vm] = await tx
      .select()
      .from(vms)
      .where(eq(vms.id, vmId))
      .for("update");
    if (!vm) throw new NotFoundError(`No VM ${vmId}`);
    const scheduledFor = input.scheduledFor
      ? new Date(input.scheduledFor)
      : undefined;
    if (scheduledFor && scheduledFor.getTime() < at.getTime() - 1000) {
      throw new ValidationError("scheduledFor is in the past", [
        { path: "scheduledFor", message: "must not be in the past" },
      ]);
    }
    const policy = await getPolicy(tx);
    const deadline = new Date(at.getTime() + policy.maxDeferSeconds * 1000);
    if (scheduledFor && scheduledFor.getTime() > deadline.getTime()) {
      throw new ValidationError(
        `scheduledFor is after the deadline ${iso(deadline)}`,
        [
          {
            path: "scheduledFor",
            message: `must be at most ${iso(deadline)} (now + policy.maxDeferSeconds)`,
          },
        ],
      );
    }
    const findActive = async () =>
      (
        await tx
          .select()
          .from(evacuations)
          .where(
            and(
              eq(evacuations.vmId, vmId),
              inArray(evacuations.status, [...ACTIVE]),
            ),
          )
      )[0];
    const existing = await findActive();
    if (existing) return { evacuationId: existing.id, created: false };
    if (!vm.hostId)
      throw new ConflictError(
        `VM ${vmId} is stopped: it will start on a healthy host`,
      );
    const pages =
      (await vmSummaries(tx, [vmId], at, policy)).get(vmId)?.distinctPages ?? 0;
    const [made] = await scheduleEvacuations(
      tx,
      [
        {
          vmId,
          reason: "operator",
          distinctPages: pages,
          requestedBy: "operator",
          ...(scheduledFor ? { scheduledFor } : {}),
        },
      ],
      at,
      { skipLocked: false, policy },
    );
    const evac = made ?? (await findActive());
    if (!evac)
      throw new ConflictError(
        `VM ${vmId} could not be evacuated now; try again`,
      );
    await audit(tx, {
      tenantId: vm.tenantId,
      actor: ctx.actor,
      action: "evacuation.request",
      target: evac.id,
      details: { vmId },
    });
    return { evacuationId: evac.id, created: made !== undefined };
  });
}

export async function cancelEvacuation(
  ctx: ServiceContext,
  input: { evacuationId: string },
) {
  const id = input.evacuationId;
  const at = ctx.now;
  return ctx.db.transaction(async (tx) => {
    const [evac] = await tx
      .select()
      .from(evacuations)
      .where(eq(evacuations.id, id));
    if (!evac) throw new NotFoundError(`No evacuation ${id}`);
    const cancelled = await cancelActive(
      tx,
      evac,
      at,
      "operator",
      "The scheduled restart on a healthy host was cancelled by the platform operator",
    );
    if (!cancelled) {
      const [cur] = await tx
        .select({ status: evacuations.status })
        .from(evacuations)
        .where(eq(evacuations.id, id));
      throw new ConflictError(
        `Evacuation ${id} is already ${cur?.status ?? evac.status}`,
      );
    }
    await audit(tx, {
      tenantId: cancelled.tenantId,
      actor: ctx.actor,
      action: "evacuation.cancel",
      target: id,
      details: { vmId: cancelled.vmId },
    });
    return evacuationView(cancelled);
  });
}

// ---- choosing the time (tenant control; the operator's "start now") ------------------------

export type RescheduleReason =
  | "tenant_start_now"
  | "tenant_defer"
  | "maintenance_window"
  | "operator_start_now";

export const DeferInput = z.strictObject({
  until: Rfc3339.describe(
    "the new restart time: after scheduledFor, at most deadline",
  ),
});

// Moves a scheduled evacuation to `to` (now: it starts at once). Only a `scheduled` evacuation
// can move: anything else is a 409. Timeline, tenant (webhook, email) and control plane are told
// in the same transaction.
async function rescheduleLocked(
  tx: Db,
  evacId: string,
  plan: (e: EvacuationRow) => { to: Date; startNow: boolean },
  reason: RescheduleReason,
  at: Date,
  actor: string,
): Promise<EvacuationRow> {
  const [peek] = await tx
    .select()
    .from(evacuations)
    .where(eq(evacuations.id, evacId));
  if (!peek) throw new NotFoundError(`No evacuation ${evacId}`);
  const { incidentOf } = await lockIncidents(tx, [peek.vmId], {
    skipLocked: false,
  });
  const [evac] = await tx
    .select()
    .from(evacuations)
    .where(eq(evacuations.id, evacId))
    .for("update");
  if (!evac || evac.status !== "scheduled") {
    throw new ConflictError(
      `The restart is already ${(evac ?? peek).status.replace("_", " ")}: it can no longer be moved`,
    );
  }
  const { to, startNow } = plan(evac);
  const [moved] = await tx
    .update(evacuations)
    .set({
      scheduledFor: to,
      rescheduleCount: sql`${evacuations.rescheduleCount} + 1`,
      ...(startNow ? { status: "in_progress" as const, startedAt: at } : {}),
    })
    .where(
      and(eq(evacuations.id, evac.id), eq(evacuations.status, "scheduled")),
    )
    .returning();
  if (!moved)
    throw new ConflictError(
      "The restart is no longer scheduled: it can no longer be moved",
    );
  const inc = await incidentOfEvacuation(tx, moved, incidentOf);
  if (inc) {
    const who = actor.startsWith("operator")
      ? "the platform operator"
      : actor.startsWith("api_key:")
        ? "the tenant (API key)"
        : `${actor.replace(/^user:/, "")}`;
    const rows = [
      timelineRow(
        inc,
        at,
        "evacuation_rescheduled",
        startNow
          ? `The restart on a healthy host was started now by ${who} (it was scheduled for ${iso(evac.scheduledFor)})`
          : `The restart on a healthy host was moved from ${iso(evac.scheduledFor)} to ${iso(to)} by ${who}; the deadline is ${iso(evac.deadline)}`,
      ),
    ];
    if (startNow)
      rows.push(
        timelineRow(
          inc,
          at,
          "evacuation_started",
          "The restart on a healthy host is under way",
        ),
      );
    await tx.insert(incidentTimeline).values(rows);
    await tx
      .update(incidents)
      .set({ updatedAt: at, version: sql`${incidents.version} + 1` })
      .where(eq(incidents.id, inc.id));
  }
  await enqueueEvacuationNotifications(tx, {
    evacuation: moved,
    kind: "rescheduled",
    at,
    rescheduledBecause: reason,
  });
  await audit(tx, {
    tenantId: moved.tenantId,
    actor,
    action: startNow ? "evacuation.start_now" : "evacuation.defer",
    target: moved.id,
    details: { vmId: moved.vmId, from: iso(evac.scheduledFor), to: iso(to) },
  });
  return moved;
}

// The incident's evacuation, for a tenant: 404 for another tenant's incident, 409 when it has none
// that is scheduled.
async function evacuationOfIncident(
  tx: Db,
  tenantId: string,
  incidentId: string,
): Promise<EvacuationRow> {
  const [inc] = await tx
    .select({ id: incidents.id })
    .from(incidents)
    .where(and(eq(incidents.tenantId, tenantId), eq(incidents.id, incidentId)));
  if (!inc) throw new NotFoundError(`No incident ${incidentId}`);
  const [evac] = await tx
    .select()
    .from(evacuations)
    .where(
      and(
        eq(evacuations.incidentId, inc.id),
        eq(evacuations.tenantId, tenantId),
      ),
    )
    .orderBy(desc(evacuations.requestedAt), desc(evacuations.id))
    .limit(1);
  if (!evac)
    throw new ConflictError(`Incident ${incidentId} has no scheduled restart`);
  return evac;
}

// "Restart now, I am ready": scheduledFor becomes now and the restart starts.
export async function startEvacuationNow(
  ctx: TenantContext,
  input: { incidentId: string },
): Promise<void> {
  const { incidentId } = input;
  const at = ctx.now;
  await ctx.db.transaction(async (tx) => {
    const evac = await evacuationOfIncident(tx, ctx.tenantId, incidentId);
    await rescheduleLocked(
      tx,
      evac.id,
      () => ({ to: at, startNow: true }),
      "tenant_start_now",
      at,
      ctx.actor,
    );
  });
}

// "Not before …": a later time, at most the deadline.
export async function deferEvacuation(
  ctx: TenantContext,
  input: z.infer<typeof DeferInput> & { incidentId: string },
): Promise<void> {
  const { incidentId } = input;
  const at = ctx.now;
  const until = new Date(input.until);
  await ctx.db.transaction(async (tx) => {
    const evac = await evacuationOfIncident(tx, ctx.tenantId, incidentId);
    await rescheduleLocked(
      tx,
      evac.id,
      (e) => {
        if (until.getTime() <= e.scheduledFor.getTime()) {
          throw new ValidationError(
            `until must be after the scheduled time ${iso(e.scheduledFor)}`,
            [
              {
                path: "until",
                message: `must be after ${iso(e.scheduledFor)}`,
              },
            ],
          );
        }
        if (until.getTime() > e.deadline.getTime()) {
          throw new ValidationError(
            `until is after the deadline ${iso(e.deadline)}`,
            [{ path: "until", message: `must be at most ${iso(e.deadline)}` }],
          );
        }
        return { to: until, startNow: false };
      },
      "tenant_defer",
      at,
      ctx.actor,
    );
  });
}

// The operator can always evacuate at once, whatever the tenant chose.
export async function startEvacuationNowByOperator(
  ctx: ServiceContext,
  input: { evacuationId: string },
) {
  const { evacuationId } = input;
  const at = ctx.now;
  return ctx.db.transaction(async (tx) =>
    evacuationView(
      await rescheduleLocked(
        tx,
        evacuationId,
        () => ({ to: at, startNow: true }),
        "operator_start_now",
        at,
        ctx.actor,
      ),
    ),
  );
}

// A VM deleted from the inventory will not be restarted anywhere: its active evacuation is
// cancelled (the tenant and the control plane hear of it); the deletion then resolves its incident
// (server/vm-lifecycle.ts). Inside the deletion's transaction.
export async function onVmDeleted(
  tx: Db,
  vmId: string,
  at: Date,
): Promise<void> {
  const [evac] = await tx
    .select()
    .from(evacuations)
    .where(
      and(eq(evacuations.vmId, vmId), inArray(evacuations.status, [...ACTIVE])),
    );
  if (evac)
    await cancelActive(
      tx,
      evac,
      at,
      "vm_deleted",
      "The VM was deleted, so the scheduled restart on a healthy host was cancelled",
    );
}

// Cancels an evacuation that is still active; null when it no longer is.
function cancelActive(
  tx: Db,
  evac: EvacuationRow,
  at: Date,
  because: "operator" | "vm_deleted",
  why: string,
) {
  return endActive(tx, evac, at, {
    outcome: "cancelled",
    set: { status: "cancelled", cancelledAt: at },
    why,
    cancelledBecause: because,
  });
}

// Ends an evacuation that is still active (null when it no longer is): its incident goes back to
// open with a timeline entry saying why, and the tenant and the control plane are told.
async function endActive(
  tx: Db,
  evac: EvacuationRow,
  at: Date,
  end: {
    outcome: "completed" | "cancelled";
    set: Partial<EvacuationRow>;
    why: string;
    cancelledBecause?: "operator" | "vm_deleted";
  },
): Promise<EvacuationRow | null> {
  const { incidentOf } = await lockIncidents(tx, [evac.vmId], {
    skipLocked: false,
  });
  const [ended] = await tx
    .update(evacuations)
    .set(end.set)
    .where(
      and(
        eq(evacuations.id, evac.id),
        inArray(evacuations.status, [...ACTIVE]),
      ),
    )
    .returning();
  if (!ended) return null;
  const inc = await incidentOfEvacuation(tx, ended, incidentOf);
  if (inc?.status === "evacuating")
    await reopenIncident(tx, inc, end.outcome, at, end.why);
  await enqueueEvacuationNotifications(tx, {
    evacuation: ended,
    kind: end.outcome,
    at,
    cancelledBecause: end.cancelledBecause,
  });
  return ended;
}

export function evacuationView(e: EvacuationRow) {
  return {
    id: e.id,
    vmId: e.vmId,
    tenantId: e.tenantId,
    projectId: e.projectId,
    incidentId: e.incidentId,
    hostId: e.hostId,
    reason: e.reason,
    distinctPages: e.distinctPages,
    status: e.status,
    requestedBy: e.requestedBy,
    requestedAt: iso(e.requestedAt),
    scheduledFor: iso(e.scheduledFor),
    deadline: iso(e.deadline),
    startedAt: iso(e.startedAt),
    completedAt: iso(e.completedAt),
    cancelledAt: iso(e.cancelledAt),
  };
}
export type EvacuationView = ReturnType<typeof evacuationView>;

export const EvacuationQuery = ListQuery.extend({
  status: z.enum(EVACUATION_STATUSES).optional(),
  vmId: OperatorId.optional(),
  hostId: OperatorId.optional(),
  tenantId: OperatorId.optional(),
});

// Newest first.
export async function listEvacuations(
  ctx: ServiceContext,
  q: z.infer<typeof EvacuationQuery>,
) {
  const c = decodeCursor(q.cursor, 2) as [string, string] | null;
  if (
    c &&
    (Number.isNaN(Date.parse(c[0])) || !EvacuationId.safeParse(c[1]).success)
  ) {
    throw new ValidationError("Invalid cursor", [
      { path: "cursor", message: "not a cursor this API made" },
    ]);
  }
  const conds = [
    keysetAfter(q.cursor, { at: evacuations.requestedAt, id: evacuations.id }),
  ];
  if (q.status) conds.push(eq(evacuations.status, q.status));
  if (q.vmId) conds.push(eq(evacuations.vmId, q.vmId));
  if (q.hostId) conds.push(eq(evacuations.hostId, q.hostId));
  if (q.tenantId) conds.push(eq(evacuations.tenantId, q.tenantId));
  const rows = await ctx.db
    .select()
    .from(evacuations)
    .where(and(...conds))
    .orderBy(desc(evacuations.requestedAt), desc(evacuations.id))
    .limit(q.limit + 1);
  const p = page(rows, q.limit, (r) => [iso(r.requestedAt), r.id]);
  return { data: p.data.map(evacuationView), nextCursor: p.nextCursor };
}
