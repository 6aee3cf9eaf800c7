import type { Db } from "@/db/client";
import { enqueueIncidentNotifications } from "@/server/notify/enqueue";
import { evaluatePolicyAfterIngest } from "@/server/policy/evaluate";
import type { Policy } from "@/server/policy/thresholds";
import { getPolicy } from "@/server/policy/thresholds";
import type { IncidentChange } from "./record-events";

// Everything a batch of incident changes causes, in the transaction that made them, under one
// reading of the policy.
export async function afterIncidentChanges(
  tx: Db,
  changes: IncidentChange[],
  hostIds: string[],
  at: Date,
  policyIn?: Policy,
) {
  if (!changes.length) return;
  const policy = policyIn ?? (await getPolicy(tx));
  await evaluatePolicyAfterIngest(tx, { changes, hostIds, at, policy });
  await enqueueIncidentNotifications(tx, changes, at, { policy });
}
