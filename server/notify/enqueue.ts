import type { Db } from "@/db/client";
import type { evacuations } from "@/db/schema";
import type { IncidentChange } from "@/server/incidents/record-events";

// The notification seam: every function here runs inside the transaction of the change that
// causes it, so a committed change always has its notification work recorded (and nothing else).

// Incident opened / updated (new errors, severity) / resolved: coalesced per incident over
// policy.coalesceSeconds; memory_error.detected per new log entry for subscribers that opted in.
export async function enqueueIncidentNotifications(_tx: Db, _changes: IncidentChange[], _at: Date): Promise<void> {}

// Evacuation scheduled / completed / cancelled: tenant webhooks (vm.evacuation_*), the incident
// email, and for "scheduled" the one control-plane callback vm.evacuation_requested.
export async function enqueueEvacuationNotifications(
  _tx: Db,
  _e: { evacuation: typeof evacuations.$inferSelect; kind: "scheduled" | "completed" | "cancelled"; at: Date },
): Promise<void> {}
