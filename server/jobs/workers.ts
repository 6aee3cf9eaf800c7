// The one list of queues, their workers and their due-scans. Every channel rides one of two
// transports: "email" (queued, rendered emails, sent through Resend) and "webhook" (subscription
// deliveries of every HTTP channel: webhooks, Slack, Teams, PagerDuty, the control-plane
// callback). A new channel changes nothing here (see server/notify/channels/index.ts).
import type { WorkHandler, WorkOptions } from "pg-boss";
import { getDb } from "@/db";
import type { Db } from "@/db/client";
import { now } from "@/server/clock";
import { defineWorker } from "@/server/jobs/boss";
import { sendDueEmails } from "@/server/notify/email-send";
import { flushDueIncidentNotifications } from "@/server/notify/enqueue";
import {
  deliverDueWebhooks,
  deliverWebhookJobs,
} from "@/server/notify/webhook-worker";

type Job = {
  queue: string;
  // the job is a wake-up: the due-scan (run by the maintenance tick too) does the same work
  dueScan: (db: Db, at: Date) => Promise<unknown>;
  work?: WorkHandler<never>;
  options: WorkOptions;
};

export const JOBS: Job[] = [
  // the coalescing timer: an incident's gathered changes go out when its window ends
  {
    queue: "notify-incident",
    dueScan: flushDueIncidentNotifications,
    options: { batchSize: 50 } as never,
  },
  {
    queue: "webhook",
    dueScan: deliverDueWebhooks,
    work: deliverWebhookJobs as WorkHandler<never>,
    // two fetch loops per process: a batch of jobs waiting on receivers does not hold back the next
    options: {
      batchSize: 20,
      burstWhenBatchFull: true,
      localConcurrency: 2,
    } as never,
  },
  {
    queue: "email",
    dueScan: sendDueEmails,
    options: { batchSize: 100 } as never,
  },
];

for (const j of JOBS) {
  defineWorker(
    j.queue,
    j.work ??
      (async () => {
        await j.dueScan(await getDb(), now());
      }),
    j.options,
  );
}
