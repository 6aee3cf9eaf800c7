import type { Db } from "@/db/client";
import { resolveQuietIncidents } from "@/server/incidents/resolve-quiet";
import { sendDailyDigests } from "@/server/notify/digest";
import { sendDueEmails } from "@/server/notify/email-send";
import { flushDueIncidentNotifications } from "@/server/notify/enqueue";
import { deliverDueWebhooks } from "@/server/notify/webhook-worker";
import { startDueEvacuations } from "@/server/policy/evacuations";

// Every time-driven behaviour, run for one instant of the clock. Production calls it on a timer;
// tests call it with the time they want. Each step is safe to run concurrently from several processes.
export async function runMaintenance(db: Db, at: Date): Promise<void> {
  await startDueEvacuations(db, at);
  await resolveQuietIncidents(db, at);
  // notifications: coalesced incident updates, digests, then the due-scans (the safety net
  // behind the pg-boss jobs, and what tests drive by moving the clock)
  await flushDueIncidentNotifications(db, at);
  await sendDailyDigests(db, at);
  await deliverDueWebhooks(db, at);
  await sendDueEmails(db, at);
}
