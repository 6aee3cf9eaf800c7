import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

export const incidents = pgTable(
  "incidents",
  {
    id: text().primaryKey(),
    tenantId: text().notNull(),
    projectId: text().notNull(),
    vmId: text().notNull(),
    vmIncarnation: text().notNull(),
    vmName: text().notNull(),
    zone: text().notNull(),
    status: text().$type<"open" | "evacuating" | "resolved">().notNull(),
    severity: text().$type<"CRITICAL" | "WARNING">().notNull(),
    openedAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
    resolvedAt: timestamp({ withTimezone: true }),
    lastErrorAt: timestamp({ withTimezone: true }).notNull(),
    errorCount: integer().notNull(),
    distinctPages: integer().notNull(),
    // the strongest per-event playbook seen; the shown playbook also depends on evacuation and page count
    eventPlaybook: text().notNull(),
    playbookKey: text().notNull(),
    playbookVersion: integer().notNull(),
    guestKernel: boolean().notNull().default(false),
    actions: jsonb().$type<string[]>().notNull().default([]),
    arch: text().notNull(),
    guestMode: text().notNull(),
    // coalesced notifications: a change since the last notification waits until notifyDueAt
    notifyDueAt: timestamp({ withTimezone: true }),
    lastNotifiedAt: timestamp({ withTimezone: true }),
    pendingChanges: jsonb().$type<string[]>().notNull().default([]),
    version: integer().notNull().default(1),
  },
  (t) => [
    // one unresolved incident per VM incarnation: a re-created VM id opens its own
    uniqueIndex("incidents_vm_incarnation_unresolved_idx")
      .on(t.vmIncarnation)
      .where(sql`${t.status} <> 'resolved'`),
    index("incidents_tenant_id_opened_at_id_idx").on(
      t.tenantId,
      t.openedAt.desc(),
      t.id.desc(),
    ),
    // the console's live stamp (server/incidents/live.ts): the tenant's latest change, one lookup
    index("incidents_tenant_id_updated_at_idx").on(t.tenantId, t.updatedAt),
    index("incidents_unresolved_last_error_at_idx")
      .on(t.lastErrorAt)
      .where(sql`${t.status} <> 'resolved'`),
    index("incidents_notify_due_at_idx")
      .on(t.notifyDueAt)
      .where(sql`${t.notifyDueAt} is not null`),
  ],
);

// Distinct poisoned pages of an incident ("unlocated:<eventId>" for an event without an address).
export const incidentPages = pgTable(
  "incident_pages",
  {
    incidentId: text().notNull(),
    pageKey: text().notNull(),
    firstSeenAt: timestamp({ withTimezone: true }).notNull(),
    count: integer().notNull().default(1),
  },
  (t) => [primaryKey({ columns: [t.incidentId, t.pageKey] })],
);

export const incidentTimeline = pgTable(
  "incident_timeline",
  {
    id: text().primaryKey(),
    incidentId: text().notNull(),
    tenantId: text().notNull(),
    at: timestamp({ withTimezone: true }).notNull(),
    kind: text().notNull(),
    summary: text().notNull(),
    logEntryId: text(),
  },
  (t) => [index("incident_timeline_incident_id_at_idx").on(t.incidentId, t.at)],
);

export const evacuations = pgTable(
  "evacuations",
  {
    id: text().primaryKey(),
    tenantId: text().notNull(),
    projectId: text().notNull(),
    vmId: text().notNull(),
    vmIncarnation: text().notNull(),
    incidentId: text(),
    hostId: text(),
    reason: text().notNull(),
    distinctPages: integer().notNull(),
    status: text()
      .$type<"scheduled" | "in_progress" | "completed" | "cancelled">()
      .notNull(),
    requestedBy: text().notNull(),
    requestedAt: timestamp({ withTimezone: true }).notNull(),
    scheduledFor: timestamp({ withTimezone: true }).notNull(),
    // no evacuation is later than this: requestedAt + policy.maxDeferSeconds at the time of the request
    deadline: timestamp({ withTimezone: true }).notNull(),
    startedAt: timestamp({ withTimezone: true }),
    // raised at each reschedule (start now, defer): the iCalendar SEQUENCE of the evacuation
    rescheduleCount: integer().notNull().default(0),
    completedAt: timestamp({ withTimezone: true }),
    cancelledAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("evacuations_vm_id_active_idx")
      .on(t.vmId)
      .where(sql`${t.status} in ('scheduled', 'in_progress')`),
    // an incident's active evacuation (resolve-quiet, attach, reconcile join on the incarnation)
    index("evacuations_vm_incarnation_active_idx")
      .on(t.vmIncarnation)
      .where(sql`${t.status} in ('scheduled', 'in_progress')`),
    index("evacuations_tenant_id_requested_at_idx").on(
      t.tenantId,
      t.requestedAt,
    ),
    // the newest evacuation of a VM, read by every policy evaluation
    index("evacuations_vm_id_requested_at_idx").on(
      t.vmId,
      t.requestedAt.desc(),
      t.id.desc(),
    ),
  ],
);
