import { and, inArray, ne, sql } from "drizzle-orm";
import { bulkInsert } from "@/db/bulk";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import {
  incidentPages,
  incidents,
  incidentTimeline,
  logEntries,
} from "@/db/schema";
import type {
  CorrelatedEvent,
  IncidentChange,
  IncidentRow,
} from "./incident-change";
import type { IncidentPlan } from "./plan-incident-changes";
import { pageKeyOf, planIncidentChanges } from "./plan-incident-changes";

export type {
  CorrelatedEvent,
  IncidentChange,
  LogEntryRow,
} from "./incident-change";

// Grouping's load, apply, write: the unresolved incidents of the batch's VM incarnations are
// locked and read with the pages they already have, planIncidentChanges decides, and the plan is
// written, a fixed number of statements per batch whatever its size, inside the caller's
// transaction. Incidents are keyed by VM incarnation: a VM re-created with a deleted VM's id
// never joins the deleted VM's incident.
export async function recordCorrelatedEvents(
  tx: Db,
  events: CorrelatedEvent[],
  at: Date,
): Promise<IncidentChange[]> {
  if (events.length === 0) return [];
  const keys = [...new Set(events.map((e) => e.vm.incarnation))].sort();
  let plan = planIncidentChanges(await loadExisting(tx, keys, events), events, {
    at,
  });
  // An incident another transaction opened first for one of ours (its insert and ours raced):
  // ours is dropped and its events join that incident, planned again.
  for (let round = 0; ; round++) {
    const lost = await insertIncidents(tx, plan);
    if (!lost.size) break;
    if (round === 2)
      throw new Error(
        `Could not open or join an incident for ${[...lost].join(", ")}`,
      );
    const again = events.filter((e) => lost.has(e.vm.incarnation));
    const replanned = planIncidentChanges(
      await loadExisting(tx, [...lost].sort(), again),
      again,
      { at },
    );
    plan = mergePlans(
      withoutIncidents(
        plan,
        new Set(
          plan.opened.filter((i) => lost.has(i.vmIncarnation)).map((i) => i.id),
        ),
      ),
      replanned,
    );
  }
  // the plan's writes depend on no answer: sent together, in this order (one round trip to the
  // embedded database's thread instead of four; pipelined on PostgreSQL). Promise.resolve starts
  // each lazy query when it is listed, so they run in the order written.
  await Promise.all([
    plan.pages.length
      ? Promise.resolve(
          tx.execute(
            bulkInsert(
              incidentPages,
              plan.pages,
              sql`on conflict (incident_id, page_key) do update set count = incident_pages.count + excluded.count`,
            ),
          ),
        )
      : null,
    updateIncidents(tx, plan.updated),
    Promise.resolve(tx.execute(bulkInsert(logEntries, plan.logEntries))),
    plan.timeline.length
      ? Promise.resolve(tx.execute(bulkInsert(incidentTimeline, plan.timeline)))
      : null,
  ]);
  return plan.changes;
}

// The unresolved incidents of these VM incarnations, locked (in key order, so two writers never
// deadlock), and which of the events' pages they already have.
async function loadExisting(tx: Db, keys: string[], events: CorrelatedEvent[]) {
  const rows = await tx
    .select()
    .from(incidents)
    .where(
      and(
        inArray(incidents.vmIncarnation, keys),
        ne(incidents.status, "resolved"),
      ),
    )
    .orderBy(incidents.vmIncarnation)
    .for("update");
  const byKey = new Map<string, IncidentRow>(
    rows.map((r) => [r.vmIncarnation, r]),
  );
  const pages = new Map<string, Set<string>>();
  if (rows.length) {
    const pageKeys = [
      ...new Set(
        events.filter((e) => byKey.has(e.vm.incarnation)).map(pageKeyOf),
      ),
    ];
    const known = await tx
      .select({
        incidentId: incidentPages.incidentId,
        pageKey: incidentPages.pageKey,
      })
      .from(incidentPages)
      .where(
        and(
          inArray(
            incidentPages.incidentId,
            rows.map((r) => r.id),
          ),
          inArray(incidentPages.pageKey, pageKeys),
        ),
      );
    for (const k of known) {
      const s = pages.get(k.incidentId);
      if (s) s.add(k.pageKey);
      else pages.set(k.incidentId, new Set([k.pageKey]));
    }
  }
  return { incidents: byKey, pages };
}

// Inserts the plan's new incidents; returns the VM incarnations whose insert lost to an
// unresolved incident another transaction opened.
async function insertIncidents(
  tx: Db,
  plan: IncidentPlan,
): Promise<Set<string>> {
  if (!plan.opened.length) return new Set();
  const inserted = await rawRows<{ vm_incarnation: string }>(
    tx,
    bulkInsert(
      incidents,
      plan.opened,
      sql`on conflict do nothing returning vm_incarnation`,
    ),
  );
  const won = new Set(inserted.map((r) => r.vm_incarnation));
  return new Set(
    plan.opened.map((i) => i.vmIncarnation).filter((v) => !won.has(v)),
  );
}

function withoutIncidents(plan: IncidentPlan, ids: Set<string>): IncidentPlan {
  const keep = <T>(rows: T[], key: (r: T) => string) =>
    rows.filter((r) => !ids.has(key(r)));
  return {
    opened: keep(plan.opened, (r) => r.id),
    updated: plan.updated,
    pages: keep(plan.pages, (r) => r.incidentId),
    timeline: keep(plan.timeline, (r) => r.incidentId),
    logEntries: keep(plan.logEntries, (r) => r.incidentId),
    changes: keep(plan.changes, (r) => r.incidentId),
  };
}

// The already inserted incidents are not inserted again: `b` only adds what `a` lacks.
function mergePlans(a: IncidentPlan, b: IncidentPlan): IncidentPlan {
  return {
    opened: b.opened,
    updated: [...a.updated, ...b.updated],
    pages: [...a.pages, ...b.pages],
    timeline: [...a.timeline, ...b.timeline],
    logEntries: [...a.logEntries, ...b.logEntries],
    changes: [
      ...a.changes.filter((c) => c.kind === "opened"),
      ...b.changes.filter((c) => c.kind === "opened"),
      ...a.changes.filter((c) => c.kind !== "opened"),
      ...b.changes.filter((c) => c.kind !== "opened"),
    ],
  };
}

// One UPDATE … FROM (VALUES …) for every changed incident of a batch.
async function updateIncidents(tx: Db, rows: IncidentRow[]) {
  if (!rows.length) return;
  const values = sql.join(
    rows.map(
      (r) =>
        sql`(${r.id}, ${r.severity}, ${r.eventPlaybook}, ${r.distinctPages}::int, ${r.errorCount}::int, ${r.lastErrorAt.toISOString()}::timestamptz, ${r.updatedAt.toISOString()}::timestamptz, ${r.playbookKey}, ${r.playbookVersion}::int, ${r.guestKernel}::boolean, ${r.guestMode}, ${JSON.stringify(r.actions)}::jsonb)`,
    ),
    sql`, `,
  );
  await tx.execute(sql`
    update incidents as i set
      severity = v.severity, event_playbook = v.event_playbook, distinct_pages = v.distinct_pages,
      error_count = v.error_count, last_error_at = v.last_error_at, updated_at = v.updated_at,
      playbook_key = v.playbook_key, playbook_version = v.playbook_version, guest_kernel = v.guest_kernel,
      guest_mode = v.guest_mode, actions = v.actions, version = i.version + 1
    from (values ${values}) as v(id, severity, event_playbook, distinct_pages, error_count, last_error_at, updated_at,
      playbook_key, playbook_version, guest_kernel, guest_mode, actions)
    where i.id = v.id`);
}
