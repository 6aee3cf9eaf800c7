import type { Db } from "@/db/client";
import type { IncidentChange } from "@/server/incidents/record-events";

// Placeholder until the health policy lands: decides evacuations after new errors.
export async function evaluatePolicyAfterIngest(
  _tx: Db,
  _input: { changes: IncidentChange[]; hostIds: string[]; at: Date },
): Promise<void> {}
