// Pure values shared by the server and the UI (no server imports here).
export const SEVERITIES = ["WARNING", "CRITICAL"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const INCIDENT_STATUSES = ["open", "evacuating", "resolved"] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const EVACUATION_STATUSES = [
  "scheduled",
  "in_progress",
  "completed",
  "cancelled",
] as const;
export type EvacuationStatus = (typeof EVACUATION_STATUSES)[number];

export const ROLES = ["viewer", "member", "owner"] as const;
export type Role = (typeof ROLES)[number];

export const WEBHOOK_EVENT_TYPES = [
  "memory_error.detected",
  "incident.opened",
  "incident.updated",
  "incident.resolved",
  "vm.evacuation_scheduled",
  "vm.evacuation_rescheduled",
  "vm.evacuation_cancelled",
  "vm.evacuation_completed",
  "webhook.test",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const UNCORRELATED_REASONS = ["unknown_vm", "host_mismatch"] as const;
export type UncorrelatedReason = (typeof UNCORRELATED_REASONS)[number];

export function severityRank(s: Severity): number {
  return s === "CRITICAL" ? 2 : 1;
}

// At most this many rows in one log-entry export (CSV or NDJSON); the explorer says so.
export const LOG_EXPORT_MAX_ROWS = 100_000;
