import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
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
    // the logs explorer's free-text search (server/incidents/log-entries.ts searchVector)
    index("log_entries_search_idx").using(
      "gin",
      sql`jsonb_to_tsvector('simple'::regconfig, ${t.jsonPayload}, '["string"]'::jsonb)`,
    ),
  ],
);
