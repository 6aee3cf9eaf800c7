import type { Db } from "@/db/client";
import { enqueueIncidentNotifications } from "@/server/notify/enqueue";
import { evaluatePolicyAfterIngest } from "@/server/policy/evaluate";
import type { IncidentChange } from "./record-events";

// Everything a batch of incident changes causes, in the transaction that made them.
export async function afterIncidentChanges(tx: Db, changes: IncidentChange[], hostIds: string[], at: Date) {
  if (!changes.length) return;
  await evaluatePolicyAfterIngest(tx, { changes, hostIds, at });
  await enqueueIncidentNotifications(tx, changes, at);
}
