import type { Db } from "@/db/client";
import type { IncidentChange } from "@/server/incidents/record-events";

// Placeholder until notifications land: records coalesced notification work in the same transaction.
export async function enqueueIncidentNotifications(_tx: Db, _changes: IncidentChange[], _at: Date): Promise<void> {}
