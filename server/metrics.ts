// The service's Prometheus metrics, kept by prom-client (the maintained Prometheus client for
// Node.js): counters, latency histograms in seconds, the process's own metrics, and the fleet's
// gauges computed at scrape time. GET /api/v1/admin/metrics renders them (text format 0.0.4, or
// OpenMetrics 1.0 when the scraper asks for it).
import client from "prom-client";

type Gauge = {
  name: string;
  help: string;
  labels?: Record<string, string>;
  value: number;
};

// Seconds. Ingestion is one shared transaction of a few statements; deliveries cross a network
// and wait for retries, so their buckets reach hours.
const TRANSACTION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const ATTEMPT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const DELIVERY_BUCKETS = [
  0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400,
];

// prom-client's default gauges nodejs_active_{handles,requests,resources}_total end in _total,
// which Prometheus reserves for counters (promtool flags them); the same counts by type remain.
const GAUGES_NAMED_LIKE_COUNTERS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];

function create() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  for (const name of GAUGES_NAMED_LIKE_COUNTERS)
    registry.removeSingleMetric(name);
  const registers = [registry];
  return {
    registry,
    scrapeGauges: new Map<string, client.Gauge>(),
    ingestEvents: new client.Counter({
      name: "poisonwatch_ingest_events_total",
      help: "Events received and stored or recognised as duplicates, by status",
      labelNames: ["status"],
      registers,
    }),
    ingestEventsRejected: new client.Counter({
      name: "poisonwatch_ingest_rejected_total",
      help: "Events of a batch rejected one by one, by reason",
      labelNames: ["reason"],
      registers,
    }),
    ingestRequestsRejected: new client.Counter({
      name: "poisonwatch_ingest_requests_rejected_total",
      help: "Whole ingestion requests refused (400 body, 401 token, 403 host, 413 size, 415 media type, 429 rate), by reason",
      labelNames: ["reason"],
      registers,
    }),
    ingestTransactionSeconds: new client.Histogram({
      name: "poisonwatch_ingest_transaction_duration_seconds",
      help: "Time to write and commit one (shared) ingestion transaction",
      buckets: TRANSACTION_BUCKETS,
      registers,
    }),
    ingestGroupRequests: new client.Histogram({
      name: "poisonwatch_ingest_group_requests",
      help: "Requests written per committed ingestion transaction",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers,
    }),
    webhookAttempts: new client.Counter({
      name: "poisonwatch_webhook_attempts_total",
      help: "Webhook delivery attempts, by outcome",
      labelNames: ["outcome"],
      registers,
    }),
    webhookAttemptSeconds: new client.Histogram({
      name: "poisonwatch_webhook_attempt_duration_seconds",
      help: "Time of one webhook delivery attempt (connect to last response byte), by kind (webhook: tenants', callback: the control plane's)",
      labelNames: ["kind"],
      buckets: ATTEMPT_BUCKETS,
      registers,
    }),
    deliveryLatencySeconds: new client.Histogram({
      name: "poisonwatch_delivery_latency_seconds",
      help: "From the event's ingestion (the notification recorded) to its successful delivery, by channel (webhook, callback, email)",
      labelNames: ["channel"],
      buckets: DELIVERY_BUCKETS,
      registers,
    }),
    emails: new client.Counter({
      name: "poisonwatch_emails_total",
      help: "Emails by outcome",
      labelNames: ["outcome"],
      registers,
    }),
    retentionDeleted: new client.Counter({
      name: "poisonwatch_retention_deleted_total",
      help: "Rows deleted by retention, by table",
      labelNames: ["table"],
      registers,
    }),
  };
}

// One set per process (Next.js may load this module more than once).
const g = globalThis as unknown as {
  __pwPromMetrics?: ReturnType<typeof create>;
};
export const metrics = (g.__pwPromMetrics ??= create());

// Gauges computed at scrape time (the fleet from the database, queue depths): each family is
// replaced whole, so a label value that disappeared is not reported stale.
function setScrapeGauges(gauges: Gauge[]): void {
  const byName = new Map<string, Gauge[]>();
  for (const s of gauges)
    byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  for (const [name, samples] of byName) {
    let gauge = metrics.scrapeGauges.get(name);
    if (!gauge) {
      gauge = new client.Gauge({
        name,
        help: samples[0]!.help,
        labelNames: Object.keys(samples[0]!.labels ?? {}),
        registers: [metrics.registry],
      });
      metrics.scrapeGauges.set(name, gauge);
    }
    gauge.reset();
    for (const s of samples) gauge.set(s.labels ?? {}, s.value);
  }
}

export const PROMETHEUS_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_CONTENT_TYPE =
  client.Registry.OPENMETRICS_CONTENT_TYPE;

// A scraper that accepts OpenMetrics gets it (Prometheus asks for it first); others get 0.0.4.
export function wantsOpenMetrics(accept: string | null): boolean {
  return /application\/openmetrics-text/i.test(accept ?? "");
}

// The registry renders in the format it is set to: renders are taken one at a time.
let rendering: Promise<unknown> = Promise.resolve();

export async function renderMetrics(
  gauges: Gauge[],
  openMetrics = false,
): Promise<{ contentType: string; body: string }> {
  const run = rendering.then(async () => {
    setScrapeGauges(gauges);
    const contentType = openMetrics
      ? OPENMETRICS_CONTENT_TYPE
      : PROMETHEUS_CONTENT_TYPE;
    metrics.registry.setContentType(
      contentType as typeof client.Registry.PROMETHEUS_CONTENT_TYPE,
    );
    // prom-client renames each counter for OpenMetrics (drops _total from the family name) and
    // keeps the new name: a later 0.0.4 render would then lack _total. Names are put back.
    const names = metrics.registry
      .getMetricsAsArray()
      .map((m) => [m, m.name] as const);
    try {
      return { contentType, body: await metrics.registry.metrics() };
    } finally {
      for (const [m, name] of names) (m as { name: string }).name = name;
    }
  });
  rendering = run.catch(() => {});
  return run;
}
