import type { Db } from "@/db/client";
import { checkpointEmbedded } from "@/server/embedded-checkpoint";
import { resolveQuietIncidents } from "@/server/incidents/resolve-quiet";
import { log } from "@/server/log";
import { JOBS } from "@/server/jobs/workers";
import { sendDailyDigests } from "@/server/notify/digest";
import {
  reconcileEvacuations,
  startDueEvacuations,
} from "@/server/policy/evacuations";
import { enforceRetention } from "@/server/retention";

// Every time-driven behaviour, run for one instant of the clock. Production calls it on a timer;
// tests call it with the time they want. Each step is safe to run concurrently from several processes.
const STEPS: [string, (db: Db, at: Date) => Promise<unknown>][] = [
  ["startDueEvacuations", startDueEvacuations],
  ["reconcileEvacuations", reconcileEvacuations],
  ["resolveQuietIncidents", resolveQuietIncidents],
  // notifications: digests, then every queue's due-scan (coalesced incident updates, HTTP
  // channels, emails: the safety net behind the pg-boss jobs, and what tests drive by moving the clock)
  ["sendDailyDigests", sendDailyDigests],
  ...JOBS.map((j): [string, (db: Db, at: Date) => Promise<unknown>] => [
    j.queue,
    j.dueScan,
  ]),
  ["enforceRetention", enforceRetentionHourly],
  // the embedded database's checkpoints (PGlite has no checkpointer of its own)
  ["checkpointEmbedded", checkpointEmbedded],
];

// Retention is a daily matter: once an hour per process is plenty, and keeps the tick cheap.
let lastRetentionAt = 0;
async function enforceRetentionHourly(db: Db, at: Date) {
  if (Math.abs(at.getTime() - lastRetentionAt) < 3600_000) return;
  lastRetentionAt = at.getTime();
  await enforceRetention(db, at);
}

// A failing step does not stop the others; the failures are reported together at the end.
export async function runMaintenance(db: Db, at: Date): Promise<void> {
  const errors: unknown[] = [];
  for (const [name, step] of STEPS) {
    try {
      await step(db, at);
    } catch (e) {
      log.error("maintenance step failed", { step: name, err: e });
      errors.push(e);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length)
    throw new AggregateError(
      errors,
      `${errors.length} maintenance steps failed`,
    );
}
