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

// Every accepted event, correlated or not. (hostId, sourceEventId) is the idempotency key.
export const memoryErrorEvents = pgTable(
  "memory_error_events",
  {
    id: text().primaryKey(),
    hostId: text().notNull(),
    sourceEventId: text().notNull(),
    vmId: text().notNull(),
    // the VM incarnation (vms.incarnation) a correlated event belongs to
    vmIncarnation: text(),
    tenantId: text(),
    projectId: text(),
    uncorrelatedReason: text().$type<"unknown_vm" | "host_mismatch">(),
    eventTime: timestamp({ withTimezone: true }).notNull(),
    receivedAt: timestamp({ withTimezone: true }).notNull(),
    severity: text().$type<"CRITICAL" | "WARNING">().notNull(),
    consumed: boolean().notNull(),
    guestKernel: boolean().notNull(),
    pageKey: text(),
    mechanism: text().notNull(),
    incidentId: text(),
    logEntryId: text(),
    raw: jsonb().$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    uniqueIndex("memory_error_events_host_id_source_event_id_idx").on(
      t.hostId,
      t.sourceEventId,
    ),
    index("memory_error_events_vm_id_event_time_idx").on(t.vmId, t.eventTime),
    index("memory_error_events_host_id_event_time_idx").on(
      t.hostId,
      t.eventTime,
    ),
    index("memory_error_events_tenant_id_event_time_idx").on(
      t.tenantId,
      t.eventTime,
    ),
    index("memory_error_events_uncorrelated_idx")
      .on(t.uncorrelatedReason, t.receivedAt)
      .where(sql`${t.uncorrelatedReason} is not null`),
    index("memory_error_events_received_at_idx").on(t.receivedAt),
  ],
);

// The policy's rollup of correlated events: per VM incarnation, host and page (an event without an
// address is a page of its own, `unlocated:<event id>`), the newest event time, and the newest of
// its guest-kernel events. Kept by statement triggers on memory_error_events (migration 0009) on
// every insert, update and delete, so ingestion, late binding and retention cannot miss it. A
// page is in a window starting at b when maxEventTime >= b, so the policy counts a VM's or a
// host's pages from these rows: a storm on one page is one row, not a scan of its events.
export const pageRollup = pgTable(
  "page_rollup",
  {
    vmIncarnation: text().notNull(),
    hostId: text().notNull(),
    page: text().notNull(),
    vmId: text().notNull(),
    maxEventTime: timestamp({ withTimezone: true }).notNull(),
    guestKernelMaxEventTime: timestamp({ withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.vmIncarnation, t.hostId, t.page] }),
    index("page_rollup_host_id_max_event_time_idx").on(
      t.hostId,
      t.maxEventTime,
    ),
  ],
);

// The log explorer's chart at any size: how many log entries each incident had in each UTC hour,
// by severity, mechanism and consumed (the chart's filters that are not a search). Kept by
// statement triggers on log_entries (migration 0010) on insert and delete, so the chart counts
// whole hours from here and only the partial hours at a range's edges from the entries.
export const logEntryHours = pgTable(
  "log_entry_hours",
  {
    tenantId: text().notNull(),
    hour: timestamp({ withTimezone: true }).notNull(),
    incidentId: text().notNull(),
    projectId: text().notNull(),
    vmId: text().notNull(),
    severity: text().notNull(),
    // json_payload->>'mechanism', '' when absent
    mechanism: text().notNull(),
    // json_payload->'consumed' as text ('true', 'false'), '' when absent
    consumed: text().notNull(),
    n: integer().notNull(),
  },
  (t) => [
    primaryKey({
      columns: [
        t.tenantId,
        t.hour,
        t.incidentId,
        t.severity,
        t.mechanism,
        t.consumed,
      ],
    }),
  ],
);

// The tenant-facing critical log entry: one per correlated event.
export const logEntries = pgTable(
  "log_entries",
  {
    id: text().primaryKey(),
    tenantId: text().notNull(),
    projectId: text().notNull(),
    vmId: text().notNull(),
    eventId: text().notNull(),
    incidentId: text().notNull(),
    timestamp: timestamp({ withTimezone: true }).notNull(),
    receiveTimestamp: timestamp({ withTimezone: true }).notNull(),
    severity: text().$type<"CRITICAL" | "WARNING">().notNull(),
    playbook: text().notNull(),
    zone: text().notNull(),
    jsonPayload: jsonb().$type<Record<string, unknown>>().notNull(),
    vcpu: integer(),
  },
  (t) => [
    index("log_entries_tenant_id_timestamp_id_idx").on(
      t.tenantId,
      t.timestamp.desc(),
      t.id.desc(),
    ),
    index("log_entries_tenant_id_vm_id_timestamp_idx").on(
      t.tenantId,
      t.vmId,
      t.timestamp.desc(),
    ),
    index("log_entries_tenant_id_project_id_timestamp_idx").on(
      t.tenantId,
      t.projectId,
      t.timestamp.desc(),
    ),
    index("log_entries_incident_id_timestamp_idx").on(
      t.incidentId,
      t.timestamp,
    ),
    uniqueIndex("log_entries_event_id_idx").on(t.eventId),
    // retention deletes by receive time
    index("log_entries_receive_timestamp_idx").on(t.receiveTimestamp),
    // the logs explorer's free-text search (server/incidents/log-entries.ts searchVector). New
    // entries wait in the index's pending list until it is merged into the index, by the insert
    // that finds it full; 256 kB, not PostgreSQL's 4 MB, so a merge holds an insert for ~30 ms,
    // not ~130 ms (embedded, that insert holds every other statement). Same total cost.
    index("log_entries_search_idx")
      .using(
        "gin",
        sql`jsonb_to_tsvector('simple'::regconfig, ${t.jsonPayload}, '["string"]'::jsonb)`,
      )
      .with({ gin_pending_list_limit: 256 }),
  ],
);
