import { severityRank } from "@/db/constants";
import type { Severity } from "@/db/constants";
import { newId as defaultNewId } from "@/db/ids";
import type { IdPrefix } from "@/db/ids";
import type { incidentPages, incidentTimeline } from "@/db/schema";
import { choosePlaybookKey, getPlaybookMeta } from "@/server/playbooks/catalog";
import type { PlaybookKey } from "@/server/playbooks/catalog";
import type {
  CorrelatedEvent,
  IncidentChange,
  IncidentRow,
  LogEntryRow,
} from "./incident-change";
import { buildLogEntryPayload } from "./log-entry";

// Grouping as a pure function: which incidents a batch of correlated events opens or updates, and
// every row that follows (incident pages, timeline entries, log entries). No database: the caller
// (record-events.ts) loads `existing`, and writes the plan.

// What the database holds for the batch's VM incarnations, read under the incidents' row locks.
export type ExistingIncidents = {
  // the unresolved incident of each VM incarnation that has one
  incidents: ReadonlyMap<string, IncidentRow>;
  // per incident id, which of the batch's page keys it already has
  pages: ReadonlyMap<string, ReadonlySet<string>>;
};

// The rules' parameters: the time of the change, how ids are made (tests pass a counter), and how
// many "new page" timeline entries one batch writes per incident before summarising the rest.
export type GroupingPolicy = {
  at: Date;
  newId?: (prefix: IdPrefix) => string;
  maxTimelineErrors?: number;
};

export type NewIncidentRow = Omit<
  IncidentRow,
  "resolvedAt" | "notifyDueAt" | "lastNotifiedAt" | "pendingChanges" | "version"
>;
export type PageCountRow = Required<typeof incidentPages.$inferInsert>;
export type TimelineRow = typeof incidentTimeline.$inferInsert;

export type IncidentPlan = {
  // incidents to insert (one per VM incarnation without an unresolved incident)
  opened: NewIncidentRow[];
  // the next state of existing incidents (version is the caller's to bump)
  updated: IncidentRow[];
  // per incident and page, the events to add to its count (a row for a page the incident lacks
  // creates it)
  pages: PageCountRow[];
  timeline: TimelineRow[];
  logEntries: LogEntryRow[];
  // opened incidents first, then updated ones, each in VM incarnation order
  changes: IncidentChange[];
};

export const MAX_TIMELINE_ERRORS_PER_BATCH = 5;

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

// Events of one VM incarnation per page, in event time order: how many, and the first one.
function countPages(group: CorrelatedEvent[]) {
  const counts = new Map<string, { n: number; first: CorrelatedEvent }>();
  for (const e of group) {
    const k = pageKeyOf(e);
    const c = counts.get(k);
    if (c) c.n += 1;
    else counts.set(k, { n: 1, first: e });
  }
  return counts;
}

export function planIncidentChanges(
  existing: ExistingIncidents,
  events: readonly CorrelatedEvent[],
  policy: GroupingPolicy,
): IncidentPlan {
  const { at } = policy;
  const newId = policy.newId ?? defaultNewId;
  const maxErrors = policy.maxTimelineErrors ?? MAX_TIMELINE_ERRORS_PER_BATCH;
  const plan: IncidentPlan = {
    opened: [],
    updated: [],
    pages: [],
    timeline: [],
    logEntries: [],
    changes: [],
  };
  if (!events.length) return plan;

  // by VM incarnation, in event time order
  const byVm = new Map<string, CorrelatedEvent[]>();
  for (const e of [...events].sort(
    (a, b) => a.eventTime.getTime() - b.eventTime.getTime(),
  )) {
    const list = byVm.get(e.vm.incarnation);
    if (list) list.push(e);
    else byVm.set(e.vm.incarnation, [e]);
  }
  const keys = [...byVm.keys()].sort();

  const incidentOf = new Map<string, { id: string; playbookKey: string }>();
  const updatedChanges: IncidentChange[] = [];
  for (const key of keys) {
    const group = byVm.get(key)!;
    const counts = countPages(group);
    const inc = existing.incidents.get(key);
    const known = inc ? existing.pages.get(inc.id) : undefined;
    const newPages = [...counts.keys()].filter((k) => !known?.has(k));
    const severity = group
      .map((e) => e.norm.severity)
      .reduce(maxSeverity, inc?.severity ?? group[0]!.norm.severity);
    const eventPlaybook = group
      .map((e) => e.norm.eventPlaybook as string)
      .reduce(
        strongerEventPlaybook,
        inc?.eventPlaybook ?? (group[0]!.norm.eventPlaybook as string),
      );
    const distinctPages = (inc?.distinctPages ?? 0) + newPages.length;
    const pb = playbookFor(eventPlaybook, distinctPages, inc?.status ?? "open");
    const guestKernel =
      (inc?.guestKernel ?? false) || group.some((e) => e.norm.guestKernel);
    const actions = [
      ...new Set([
        ...(inc?.actions ?? []),
        ...group.flatMap((e) => e.data.actions ?? []),
      ]),
    ];
    const lastErrorAt = new Date(
      Math.max(
        inc?.lastErrorAt.getTime() ?? -Infinity,
        ...group.map((e) => e.eventTime.getTime()),
      ),
    );
    const kernel = group.some((e) => e.data.guestMode === "kernel");

    let id: string;
    let change: IncidentChange;
    const timeline: TimelineRow[] = [];
    if (!inc) {
      const first = group[0]!;
      const row: NewIncidentRow = {
        id: newId("inc"),
        tenantId: first.tenantId,
        projectId: first.projectId,
        vmId: first.vm.id,
        vmIncarnation: key,
        vmName: first.vm.name,
        zone: first.vm.zone,
        status: "open",
        severity,
        openedAt: at,
        updatedAt: at,
        lastErrorAt,
        errorCount: group.length,
        distinctPages,
        eventPlaybook,
        playbookKey: pb.key,
        playbookVersion: pb.version,
        guestKernel,
        actions,
        arch: first.data.arch,
        guestMode: kernel ? "kernel" : (first.data.guestMode ?? "unknown"),
      };
      id = row.id;
      plan.opened.push(row);
      timeline.push({
        id: newId("tle"),
        incidentId: id,
        tenantId: row.tenantId,
        at,
        kind: "opened",
        summary: `Incident opened: ${severity === "CRITICAL" ? "an uncorrectable memory error was consumed" : "a latent memory error was found"} in VM ${row.vmName}`,
        logEntryId: first.logEntryId,
      });
      change = {
        incidentId: id,
        tenantId: row.tenantId,
        projectId: row.projectId,
        vmId: row.vmId,
        kind: "opened",
        logEntryIds: group.map((e) => e.logEntryId),
        newPages: newPages.length,
        severityRaised: false,
        guestKernel,
      };
      plan.changes.push(change);
    } else {
      id = inc.id;
      plan.updated.push({
        ...inc,
        severity,
        eventPlaybook,
        distinctPages,
        errorCount: inc.errorCount + group.length,
        lastErrorAt,
        updatedAt: at,
        playbookKey: pb.key,
        playbookVersion: pb.version,
        guestKernel,
        guestMode:
          inc.guestMode === "kernel" || kernel ? "kernel" : inc.guestMode,
        actions,
        version: inc.version + 1,
      });
      const severityRaised = severity !== inc.severity;
      if (severityRaised)
        timeline.push({
          id: newId("tle"),
          incidentId: id,
          tenantId: inc.tenantId,
          at,
          kind: "severity_raised",
          summary: `Severity raised to ${severity}: an error was consumed`,
          logEntryId:
            group.find((e) => e.norm.severity === severity)?.logEntryId ?? null,
        });
      if (pb.key !== inc.playbookKey)
        timeline.push({
          id: newId("tle"),
          incidentId: id,
          tenantId: inc.tenantId,
          at,
          kind: "playbook_changed",
          summary: `Playbook changed to "${pb.title}"`,
          logEntryId: null,
        });
      change = {
        incidentId: id,
        tenantId: inc.tenantId,
        projectId: inc.projectId,
        vmId: inc.vmId,
        kind: "updated",
        logEntryIds: group.map((e) => e.logEntryId),
        newPages: newPages.length,
        severityRaised,
        guestKernel,
      };
      updatedChanges.push(change);
    }
    incidentOf.set(key, { id, playbookKey: pb.key });

    // one page-count path for new and existing incidents
    for (const [pageKey, c] of counts)
      plan.pages.push({
        incidentId: id,
        pageKey,
        firstSeenAt: c.first.eventTime,
        count: c.n,
      });

    // "new page" entries, the first page of an opening already told by its "opened" entry
    const firsts = newPages.map((k) => counts.get(k)!.first);
    const list = inc ? firsts : firsts.slice(1);
    for (const e of list.slice(0, maxErrors))
      timeline.push({
        id: newId("tle"),
        incidentId: id,
        tenantId: change.tenantId,
        at,
        kind: "error",
        summary: `New poisoned page: ${e.norm.severity === "CRITICAL" ? "consumed error" : "latent error"} at ${e.norm.gpa ? `guest-physical page ${e.norm.gpa}` : "an unknown address"}`,
        logEntryId: e.logEntryId,
      });
    if (list.length > maxErrors)
      timeline.push({
        id: newId("tle"),
        incidentId: id,
        tenantId: change.tenantId,
        at,
        kind: "error",
        summary: `${list.length - maxErrors} more new poisoned pages`,
        logEntryId: null,
      });
    plan.timeline.push(...timeline);
  }
  plan.changes.push(...updatedChanges);

  // log entries in the order the events came, each with its incident's playbook after the batch
  const rowsOf = new Map<string, LogEntryRow[]>();
  for (const e of events) {
    const inc = incidentOf.get(e.vm.incarnation)!;
    const row: LogEntryRow = {
      id: e.logEntryId,
      tenantId: e.tenantId,
      projectId: e.projectId,
      vmId: e.vm.id,
      eventId: e.eventId,
      incidentId: inc.id,
      timestamp: e.eventTime,
      receiveTimestamp: e.receivedAt,
      severity: e.norm.severity,
      playbook: inc.playbookKey,
      zone: e.vm.zone,
      vcpu: e.data.vcpu ?? null,
      jsonPayload: buildLogEntryPayload(e),
    };
    plan.logEntries.push(row);
    const list = rowsOf.get(inc.id);
    if (list) list.push(row);
    else rowsOf.set(inc.id, [row]);
  }
  for (const c of plan.changes) c.logEntries = rowsOf.get(c.incidentId) ?? [];
  return plan;
}
