import type { incidents, logEntries } from "@/db/schema";
import type { KnownVm } from "@/server/correlation/correlate-event";
import type { MemoryErrorData } from "@/server/ingest/event-schema";
import type { NormalizedError } from "@/server/ingest/normalize-event";

// The shapes grouping reads and produces, apart from the code that plans (plan-incident-changes.ts)
// and the code that writes (record-events.ts), so that log-entry.ts can use them without importing
// either.

// A stored event that correlation attributed to a VM incarnation.
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

export type LogEntryRow = typeof logEntries.$inferSelect;

export type IncidentRow = typeof incidents.$inferSelect;

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
