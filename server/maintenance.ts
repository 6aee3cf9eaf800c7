import type { Db } from "@/db/client";
import { resolveQuietIncidents } from "@/server/incidents/resolve-quiet";

// Every time-driven behaviour, run for one instant of the clock. Production calls it on a timer;
// tests call it with the time they want. Each step is safe to run concurrently from several processes.
export async function runMaintenance(db: Db, at: Date): Promise<void> {
  await resolveQuietIncidents(db, at);
}
