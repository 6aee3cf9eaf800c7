import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import type { ServiceContext } from "@/server/context";
import { rawRows } from "@/db/client";
import { getDbHandle } from "@/db";
import { getBoss, QUEUES } from "@/server/jobs/boss";
// the one list of jobs defines every queue, in a web-only process (POISONWATCH_WORKERS=0) too
import "@/server/jobs/workers";
import { log } from "@/server/log";
import { countHostsByState, listHostHealth } from "./host-health";
import { getPolicy } from "./thresholds";

// What the operator watches: the fleet's health, the intake and the outgoing backlog.

const DAY_MS = 86400_000;

async function one<T>(db: Db, q: ReturnType<typeof sql>): Promise<T> {
  return (await rawRows<T>(db, q))[0]!;
}

export async function getDeliveryBacklog(db: Db, at: Date) {
  const w = await one<{
    tenant: number;
    callback: number;
    oldest: number | null;
  }>(
    db,
    sql`select count(*) filter (where endpoint_id <> 'callback')::int as tenant, count(*) filter (where endpoint_id = 'callback')::int as callback,
               floor(extract(epoch from min(created_at)) * 1000)::float8 as oldest
        from webhook_deliveries where status = 'pending'`,
  );
  const e = await one<{ queued: number; oldest: number | null }>(
    db,
    sql`select count(*)::int as queued, floor(extract(epoch from min(created_at)) * 1000)::float8 as oldest
        from emails where status = 'queued'`,
  );
  const age = (v: number | null) =>
    v === null ? 0 : Math.max(0, Math.round((at.getTime() - Number(v)) / 1000));
  return {
    webhookPending: Number(w.tenant),
    callbackPending: Number(w.callback),
    oldestWebhookAgeSeconds: age(w.oldest),
    emailsQueued: Number(e.queued),
    oldestEmailAgeSeconds: age(e.oldest),
  };
}

// Events received per hour over the last day (oldest first), and in the last five minutes.
export async function getIngestionRate(db: Db, at: Date) {
  const since = new Date(at.getTime() - DAY_MS);
  const rows = await rawRows<{ hour: number; n: number }>(
    db,
    sql`select floor(extract(epoch from date_trunc('hour', received_at)) * 1000)::float8 as hour, count(*)::int as n
        from memory_error_events where received_at >= ${since.toISOString()}::timestamptz and received_at <= ${at.toISOString()}::timestamptz
        group by 1 order by 1`,
  );
  const byHour = new Map(rows.map((r) => [Number(r.hour), Number(r.n)]));
  const firstHour = Math.floor(since.getTime() / 3600_000) * 3600_000;
  const series = Array.from({ length: 25 }, (_, i) => {
    const h = firstHour + i * 3600_000;
    return { hour: new Date(h).toISOString(), events: byHour.get(h) ?? 0 };
  });
  const recent = await one<{ n: number }>(
    db,
    sql`select count(*)::int as n from memory_error_events
        where received_at > ${new Date(at.getTime() - 300_000).toISOString()}::timestamptz and received_at <= ${at.toISOString()}::timestamptz`,
  );
  return {
    perHour: series,
    lastFiveMinutes: Number(recent.n),
    perMinuteNow: Number(recent.n) / 5,
  };
}

// Uncorrelated events received in the last day, by reason.
export async function getUncorrelatedCounts(db: Db, at: Date) {
  const rows = await rawRows<{ reason: string; n: number }>(
    db,
    sql`select uncorrelated_reason as reason, count(*)::int as n from memory_error_events
        where uncorrelated_reason is not null and received_at >= ${new Date(at.getTime() - DAY_MS).toISOString()}::timestamptz
        group by 1`,
  );
  const out = { unknown_vm: 0, host_mismatch: 0 };
  for (const r of rows)
    if (r.reason === "unknown_vm" || r.reason === "host_mismatch")
      out[r.reason] = Number(r.n);
  return out;
}

async function countsOf(db: Db, q: ReturnType<typeof sql>) {
  const rows = await rawRows<{ k: string; n: number }>(db, q);
  return Object.fromEntries(rows.map((r) => [r.k, Number(r.n)])) as Record<
    string,
    number
  >;
}

export async function getFleetOverview(ctx: ServiceContext) {
  const { db, now: at } = ctx;
  const policy = await getPolicy(db);
  const hostsByState = await countHostsByState(db, at, policy);
  const top = await listHostHealth(
    ctx,
    { limit: 50, order: "pressure", minPages: 1 },
    policy,
  );
  const incidents = await countsOf(
    db,
    sql`select status as k, count(*)::int as n from incidents where status <> 'resolved' group by 1`,
  );
  const evacs = await countsOf(
    db,
    sql`select status as k, count(*)::int as n from evacuations where status in ('scheduled', 'in_progress') group by 1`,
  );
  return {
    at: at.toISOString(),
    policy,
    hostsByState,
    trendingHosts: top.data.filter((h) => h.state !== "evacuate").slice(0, 10),
    hostsToEvacuate: top.data.filter((h) => h.state === "evacuate"),
    incidents: {
      open: incidents.open ?? 0,
      evacuating: incidents.evacuating ?? 0,
    },
    evacuations: {
      scheduled: evacs.scheduled ?? 0,
      in_progress: evacs.in_progress ?? 0,
    },
    uncorrelated: await getUncorrelatedCounts(db, at),
    ingestion: await getIngestionRate(db, at),
    backlog: await getDeliveryBacklog(db, at),
  };
}
export type FleetOverview = Awaited<ReturnType<typeof getFleetOverview>>;

type Gauge = {
  name: string;
  help: string;
  labels?: Record<string, string>;
  value: number;
};

// pg-boss's own counts per queue; absent (not zero) when the queue manager cannot be reached.
async function queueDepthGauges(): Promise<Gauge[]> {
  try {
    const boss = await getBoss(await getDbHandle());
    const queues = await boss.getQueues([...QUEUES]);
    return queues.flatMap((q) => [
      {
        name: "poisonwatch_queue_depth",
        help: "Jobs queued (ready, deferred or blocked), by queue",
        labels: { queue: q.name },
        value: q.queuedCount,
      },
      {
        name: "poisonwatch_queue_active",
        help: "Jobs being worked on, by queue",
        labels: { queue: q.name },
        value: q.activeCount,
      },
    ]);
  } catch (e) {
    log.warn("queue depth unavailable", { err: e });
    return [];
  }
}

// Gauges computed at scrape time for GET /api/v1/admin/metrics.
export async function collectFleetGauges(
  ctx: ServiceContext,
): Promise<Gauge[]> {
  const { db, now: at } = ctx;
  const policy = await getPolicy(db);
  const hosts = await countHostsByState(db, at, policy);
  const incidents = await countsOf(
    db,
    sql`select status as k, count(*)::int as n from incidents where status <> 'resolved' group by 1`,
  );
  const evacs = await countsOf(
    db,
    sql`select status as k, count(*)::int as n from evacuations where status in ('scheduled', 'in_progress') group by 1`,
  );
  const backlog = await getDeliveryBacklog(db, at);
  const uncorrelated = await getUncorrelatedCounts(db, at);
  const ingest = await getIngestionRate(db, at);
  return [
    ...Object.entries(hosts).map(([state, value]) => ({
      name: "poisonwatch_hosts",
      help: "Hosts by health state",
      labels: { state },
      value,
    })),
    ...(["open", "evacuating"] as const).map((status) => ({
      name: "poisonwatch_incidents_unresolved",
      help: "Unresolved incidents, by status",
      labels: { status },
      value: incidents[status] ?? 0,
    })),
    ...(["scheduled", "in_progress"] as const).map((status) => ({
      name: "poisonwatch_evacuations_active",
      help: "Evacuations not yet completed or cancelled, by status",
      labels: { status },
      value: evacs[status] ?? 0,
    })),
    {
      name: "poisonwatch_webhook_deliveries_pending",
      help: "Webhook deliveries not yet succeeded or failed",
      labels: { kind: "tenant" },
      value: backlog.webhookPending,
    },
    {
      name: "poisonwatch_webhook_deliveries_pending",
      help: "Webhook deliveries not yet succeeded or failed",
      labels: { kind: "callback" },
      value: backlog.callbackPending,
    },
    {
      name: "poisonwatch_webhook_oldest_pending_seconds",
      help: "Age of the oldest pending webhook delivery",
      value: backlog.oldestWebhookAgeSeconds,
    },
    {
      name: "poisonwatch_emails_queued",
      help: "Emails waiting to be sent",
      value: backlog.emailsQueued,
    },
    {
      name: "poisonwatch_email_oldest_queued_seconds",
      help: "Age of the oldest queued email",
      value: backlog.oldestEmailAgeSeconds,
    },
    ...Object.entries(uncorrelated).map(([reason, value]) => ({
      name: "poisonwatch_uncorrelated_events_24h",
      help: "Uncorrelated events received in the last 24 h, by reason",
      labels: { reason },
      value,
    })),
    {
      name: "poisonwatch_ingest_events_per_minute",
      help: "Events stored per minute over the last 5 minutes",
      value: ingest.perMinuteNow,
    },
    ...(await queueDepthGauges()),
  ];
}
