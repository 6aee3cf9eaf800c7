import { and, inArray, ne, sql } from "drizzle-orm";
import { bulkInsert } from "@/db/bulk";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { severityRank } from "@/db/constants";
import type { Severity } from "@/db/constants";
import { newId } from "@/db/ids";
import {
  incidentPages,
  incidents,
  incidentTimeline,
  logEntries,
} from "@/db/schema";
import type { KnownVm } from "@/server/correlation/correlate-event";
import type { MemoryErrorData } from "@/server/ingest/event-schema";
import type { NormalizedError } from "@/server/ingest/normalize-event";
import { buildLogEntryPayload } from "@/server/incidents/log-entry";
import { choosePlaybookKey, getPlaybookMeta } from "@/server/playbooks/catalog";
import type { PlaybookKey } from "@/server/playbooks/catalog";

export type CorrelatedEvent = {
  eventId: string;
  logEntryId: string;
  vm: KnownVm;
  tenantId: string;
  projectId: string;
  hostId: string;
  eventTime: Date;
  receivedAt: Date;
  data: MemoryErrorData;
  norm: NormalizedError;
};

export type IncidentChange = {
  incidentId: string;
  tenantId: string;
  projectId: string;
  vmId: string;
  kind: "opened" | "updated" | "resolved";
  // a resolution other than the quiet period's
  resolvedBecause?: "vm_deleted";
  logEntryIds: string[];
  newPages: number;
  severityRaised: boolean;
  guestKernel: boolean;
  // the log entries this change wrote, as stored (ingestion and late binding set them)
  logEntries?: LogEntryRow[];
};

type LogEntryRow = typeof logEntries.$inferSelect;

type IncidentRow = typeof incidents.$inferSelect;

const EVENT_PLAYBOOK_RANK: Record<string, number> = {
  "latent-memory-error": 1,
  "user-process-memory-error": 2,
  "guest-kernel-memory-error": 3,
  "vm-restarted": 4,
};

export function strongerEventPlaybook(a: string, b: string): string {
  return (EVENT_PLAYBOOK_RANK[b] ?? 0) > (EVENT_PLAYBOOK_RANK[a] ?? 0) ? b : a;
}

export function pageKeyOf(e: {
  eventId: string;
  norm: { pageKey: string | null };
}): string {
  return e.norm.pageKey ?? `unlocated:${e.eventId}`;
}

function maxSeverity(a: Severity, b: Severity): Severity {
  return severityRank(b) > severityRank(a) ? b : a;
}

function playbookFor(
  eventPlaybook: string,
  distinctPages: number,
  status: IncidentRow["status"],
) {
  const key = choosePlaybookKey({
    eventPlaybook: eventPlaybook as PlaybookKey,
    distinctPages,
    evacuation: status === "evacuating" ? { status: "scheduled" } : null,
  });
  return getPlaybookMeta(key);
}

const MAX_TIMELINE_ERRORS_PER_BATCH = 5;

// Groups stored, correlated events into incidents and writes their log entries: a fixed number of
// statements per batch whatever its size, inside the caller's transaction. Incidents are keyed by
// VM incarnation: a VM re-created with a deleted VM's id never joins the deleted VM's incident.
export async function recordCorrelatedEvents(
  tx: Db,
  events: CorrelatedEvent[],
  at: Date,
): Promise<IncidentChange[]> {
  if (events.length === 0) return [];
  // by VM incarnation
  const byVm = new Map<string, CorrelatedEvent[]>();
  for (const e of [...events].sort(
    (a, b) => a.eventTime.getTime() - b.eventTime.getTime(),
  )) {
    const list = byVm.get(e.vm.incarnation) ?? [];
    list.push(e);
    byVm.set(e.vm.incarnation, list);
  }
  const keys = [...byVm.keys()].sort();

  const existing = new Map<string, IncidentRow>();
  const lockOpen = async (ids: string[]) => {
    if (!ids.length) return;
    const rows = await tx
      .select()
      .from(incidents)
      .where(
        and(
          inArray(incidents.vmIncarnation, ids),
          ne(incidents.status, "resolved"),
        ),
      )
      .orderBy(incidents.vmIncarnation)
      .for("update");
    for (const r of rows) existing.set(r.vmIncarnation, r);
  };
  await lockOpen(keys);

  const changes: IncidentChange[] = [];
  // incarnation -> the incident this batch opened for it
  const openedFor = new Map<string, string>();
  const timeline: (typeof incidentTimeline.$inferInsert)[] = [];
  const logRows: LogEntryRow[] = [];
  const playbookOf = new Map<string, string>();

  // New incidents: every page of the group is new to them.
  for (let round = 0; round < 2; round++) {
    const missing = keys.filter((v) => !existing.has(v) && !openedFor.has(v));
    if (!missing.length) break;
    const fresh = missing.map((key) => {
      const group = byVm.get(key)!;
      const first = group[0]!;
      const pages = new Set(group.map(pageKeyOf));
      const eventPlaybook = group
        .map((e) => e.norm.eventPlaybook as string)
        .reduce(strongerEventPlaybook);
      const severity = group.map((e) => e.norm.severity).reduce(maxSeverity);
      const pb = playbookFor(eventPlaybook, pages.size, "open");
      return {
        id: newId("inc"),
        tenantId: first.tenantId,
        projectId: first.projectId,
        vmId: first.vm.id,
        vmIncarnation: key,
        vmName: first.vm.name,
        zone: first.vm.zone,
        status: "open" as const,
        severity,
        openedAt: at,
        updatedAt: at,
        lastErrorAt: group[group.length - 1]!.eventTime,
        errorCount: group.length,
        distinctPages: pages.size,
        eventPlaybook,
        playbookKey: pb.key,
        playbookVersion: pb.version,
        guestKernel: group.some((e) => e.norm.guestKernel),
        actions: [...new Set(group.flatMap((e) => e.data.actions ?? []))],
        arch: first.data.arch,
        guestMode: group.some((e) => e.data.guestMode === "kernel")
          ? "kernel"
          : (first.data.guestMode ?? "unknown"),
      };
    });
    const inserted = await rawRows<{ vm_incarnation: string }>(
      tx,
      bulkInsert(
        incidents,
        fresh,
        sql`on conflict do nothing returning vm_incarnation`,
      ),
    );
    const won = new Set(inserted.map((r) => r.vm_incarnation));
    const pageRows: (typeof incidentPages.$inferInsert)[] = [];
    for (const inc of fresh) {
      if (!won.has(inc.vmIncarnation)) continue;
      openedFor.set(inc.vmIncarnation, inc.id);
      const group = byVm.get(inc.vmIncarnation)!;
      const counts = new Map<string, { n: number; first: Date }>();
      for (const e of group) {
        const k = pageKeyOf(e);
        const c = counts.get(k);
        if (c) c.n += 1;
        else counts.set(k, { n: 1, first: e.eventTime });
      }
      for (const [pageKey, c] of counts)
        pageRows.push({
          incidentId: inc.id,
          pageKey,
          firstSeenAt: c.first,
          count: c.n,
        });
      playbookOf.set(inc.id, inc.playbookKey);
      timeline.push({
        id: newId("tle"),
        incidentId: inc.id,
        tenantId: inc.tenantId,
        at,
        kind: "opened",
        summary: `Incident opened: ${inc.severity === "CRITICAL" ? "an uncorrectable memory error was consumed" : "a latent memory error was found"} in VM ${inc.vmName}`,
        logEntryId: group[0]!.logEntryId,
      });
      pushErrorTimeline(timeline, inc, group, new Set(counts.keys()), at, true);
      changes.push({
        incidentId: inc.id,
        tenantId: inc.tenantId,
        projectId: inc.projectId,
        vmId: inc.vmId,
        kind: "opened",
        logEntryIds: group.map((e) => e.logEntryId),
        newPages: counts.size,
        severityRaised: false,
        guestKernel: inc.guestKernel,
      });
    }
    if (pageRows.length) await tx.execute(bulkInsert(incidentPages, pageRows));
    // lost a race with a concurrent request that opened the incident first: join it
    await lockOpen(missing.filter((v) => !won.has(v)));
  }

  // Existing incidents: learn which pages are new from the upsert itself.
  const existingGroups = keys.filter(
    (v) => existing.has(v) && !openedFor.has(v),
  );
  if (existingGroups.length) {
    const pageRows: (typeof incidentPages.$inferInsert)[] = [];
    for (const key of existingGroups) {
      const inc = existing.get(key)!;
      const counts = new Map<string, { n: number; first: Date }>();
      for (const e of byVm.get(key)!) {
        const k = pageKeyOf(e);
        const c = counts.get(k);
        if (c) c.n += 1;
        else counts.set(k, { n: 1, first: e.eventTime });
      }
      for (const [pageKey, c] of counts)
        pageRows.push({
          incidentId: inc.id,
          pageKey,
          firstSeenAt: c.first,
          count: c.n,
        });
    }
    const upserted = await rawRows<{
      incident_id: string;
      page_key: string;
      is_new: boolean;
    }>(
      tx,
      bulkInsert(
        incidentPages,
        pageRows,
        sql`on conflict (incident_id, page_key) do update set count = incident_pages.count + excluded.count
            returning incident_id, page_key, (xmax = 0) as is_new`,
      ),
    );
    const newPagesOf = new Map<string, Set<string>>();
    for (const r of upserted) {
      if (!r.is_new) continue;
      const s = newPagesOf.get(r.incident_id) ?? new Set<string>();
      s.add(r.page_key);
      newPagesOf.set(r.incident_id, s);
    }
    const updates: IncidentRow[] = [];
    for (const key of existingGroups) {
      const inc = existing.get(key)!;
      const group = byVm.get(key)!;
      const newPages = newPagesOf.get(inc.id) ?? new Set<string>();
      const severity = group
        .map((e) => e.norm.severity)
        .reduce(maxSeverity, inc.severity);
      const eventPlaybook = group
        .map((e) => e.norm.eventPlaybook as string)
        .reduce(strongerEventPlaybook, inc.eventPlaybook);
      const distinctPages = inc.distinctPages + newPages.size;
      const pb = playbookFor(eventPlaybook, distinctPages, inc.status);
      const lastErrorAt = new Date(
        Math.max(
          inc.lastErrorAt.getTime(),
          ...group.map((e) => e.eventTime.getTime()),
        ),
      );
      const next: IncidentRow = {
        ...inc,
        severity,
        eventPlaybook,
        distinctPages,
        errorCount: inc.errorCount + group.length,
        lastErrorAt,
        updatedAt: at,
        playbookKey: pb.key,
        playbookVersion: pb.version,
        guestKernel: inc.guestKernel || group.some((e) => e.norm.guestKernel),
        guestMode:
          inc.guestMode === "kernel" ||
          group.some((e) => e.data.guestMode === "kernel")
            ? "kernel"
            : inc.guestMode,
        actions: [
          ...new Set([
            ...inc.actions,
            ...group.flatMap((e) => e.data.actions ?? []),
          ]),
        ],
        version: inc.version + 1,
      };
      updates.push(next);
      playbookOf.set(inc.id, next.playbookKey);
      const severityRaised = severity !== inc.severity;
      if (severityRaised) {
        timeline.push({
          id: newId("tle"),
          incidentId: inc.id,
          tenantId: inc.tenantId,
          at,
          kind: "severity_raised",
          summary: `Severity raised to ${severity}: an error was consumed`,
          logEntryId:
            group.find((e) => e.norm.severity === severity)?.logEntryId ?? null,
        });
      }
      if (pb.key !== inc.playbookKey) {
        timeline.push({
          id: newId("tle"),
          incidentId: inc.id,
          tenantId: inc.tenantId,
          at,
          kind: "playbook_changed",
          summary: `Playbook changed to "${pb.title}"`,
          logEntryId: null,
        });
      }
      pushErrorTimeline(timeline, next, group, newPages, at, false);
      changes.push({
        incidentId: inc.id,
        tenantId: inc.tenantId,
        projectId: inc.projectId,
        vmId: inc.vmId,
        kind: "updated",
        logEntryIds: group.map((e) => e.logEntryId),
        newPages: newPages.size,
        severityRaised,
        guestKernel: next.guestKernel,
      });
    }
    await updateIncidents(tx, updates);
  }

  const incidentOfKey = new Map<string, string>();
  for (const v of keys)
    incidentOfKey.set(v, openedFor.get(v) ?? existing.get(v)!.id);
  for (const e of events) {
    const incidentId = incidentOfKey.get(e.vm.incarnation)!;
    logRows.push({
      id: e.logEntryId,
      tenantId: e.tenantId,
      projectId: e.projectId,
      vmId: e.vm.id,
      eventId: e.eventId,
      incidentId,
      timestamp: e.eventTime,
      receiveTimestamp: e.receivedAt,
      severity: e.norm.severity,
      playbook: playbookOf.get(incidentId)!,
      zone: e.vm.zone,
      vcpu: e.data.vcpu ?? null,
      jsonPayload: buildLogEntryPayload(e),
    });
  }
  await tx.execute(bulkInsert(logEntries, logRows));
  const rowsOf = new Map<string, LogEntryRow[]>();
  for (const r of logRows) {
    const list = rowsOf.get(r.incidentId);
    if (list) list.push(r);
    else rowsOf.set(r.incidentId, [r]);
  }
  for (const c of changes) c.logEntries = rowsOf.get(c.incidentId) ?? [];
  if (timeline.length) await tx.execute(bulkInsert(incidentTimeline, timeline));
  return changes;
}

function pushErrorTimeline(
  timeline: (typeof incidentTimeline.$inferInsert)[],
  inc: { id: string; tenantId: string },
  group: CorrelatedEvent[],
  newPages: Set<string>,
  at: Date,
  isOpening: boolean,
) {
  const firsts = group.filter(
    (e, i) =>
      newPages.has(pageKeyOf(e)) &&
      group.findIndex((x) => pageKeyOf(x) === pageKeyOf(e)) === i,
  );
  // the opening entry already tells the first error
  const list = isOpening ? firsts.slice(1) : firsts;
  for (const e of list.slice(0, MAX_TIMELINE_ERRORS_PER_BATCH)) {
    const where = e.norm.gpa
      ? `guest-physical page ${e.norm.gpa}`
      : "an unknown address";
    timeline.push({
      id: newId("tle"),
      incidentId: inc.id,
      tenantId: inc.tenantId,
      at,
      kind: "error",
      summary: `New poisoned page: ${e.norm.severity === "CRITICAL" ? "consumed error" : "latent error"} at ${where}`,
      logEntryId: e.logEntryId,
    });
  }
  if (list.length > MAX_TIMELINE_ERRORS_PER_BATCH) {
    timeline.push({
      id: newId("tle"),
      incidentId: inc.id,
      tenantId: inc.tenantId,
      at,
      kind: "error",
      summary: `${list.length - MAX_TIMELINE_ERRORS_PER_BATCH} more new poisoned pages`,
      logEntryId: null,
    });
  }
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
