// Ships the spool to POST /api/v1/events: the oldest unanswered events in gzip'ed batches, one
// request at a time (what arrives meanwhile forms the next batch). A batch leaves the spool only
// when a 200 answered every event in it; anything else is retried with backoff and jitter.
import { promisify } from "node:util";
import { gzip as gzipCb } from "node:zlib";
import type { Logger } from "./log";
import type { Metrics } from "./metrics";
import type { Spool } from "./spool";
import { backoffDelay, sleep } from "./timers";
import type { Timers } from "./timers";

const gzip = promisify(gzipCb);

export const MAX_BATCH_EVENTS = 1000;
export const MAX_BATCH_BYTES = 1024 * 1024;

export type ShipperOptions = {
  url: string;
  token: string;
  spool: Spool;
  timers: Timers;
  log: Logger;
  metrics: Metrics;
  lingerMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  requestTimeoutMs?: number;
  gzip?: boolean;
  fetch?: typeof fetch;
};

type Result = {
  id?: string | null;
  status?: string;
  error?: { code?: string; message?: string };
};

export class Shipper {
  private running = false;
  private stopped401 = false;
  private wake: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private attempt = 0;
  private maxEvents = MAX_BATCH_EVENTS;
  private lastSuccessMs: number;
  private unsubscribe: () => void = () => {};
  private draining = false;
  private readonly endpoint: string;

  constructor(private o: ShipperOptions) {
    this.endpoint =
      o.url.replace(/\/+$/, "").replace(/\/api\/v1\/events$/, "") +
      "/api/v1/events";
    this.lastSuccessMs = o.timers.now();
    const m = o.metrics;
    for (const status of ["accepted", "duplicate", "rejected"])
      m.declare(
        "poisonwatch_agent_events_shipped_total",
        "Events the service answered, by its answer",
        { status },
      );
    m.gauge(
      "poisonwatch_agent_seconds_since_last_shipment",
      "Seconds since the service last answered a batch (since start when none yet)",
      () => Math.max(0, (o.timers.now() - this.lastSuccessMs) / 1000),
    );
    m.gauge(
      "poisonwatch_agent_shipping_stopped",
      "1 when the service refused the host token (401): shipping stopped, nothing dropped",
      () => (this.stopped401 ? 1 : 0),
    );
  }

  get unauthorized(): boolean {
    return this.stopped401;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.o.spool.onAppend(() => this.poke());
    this.loop = this.run();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  // waits for a poke (new events, stop) or ms
  private async pause(ms: number | null): Promise<void> {
    if (!this.running) return;
    const s = ms === null ? null : sleep(this.o.timers, ms);
    await new Promise<void>((resolve) => {
      this.wake = () => {
        s?.cancel();
        resolve();
      };
      void s?.done.then(() => {
        this.wake = null;
        resolve();
      });
    });
  }

  private async run(): Promise<void> {
    const { spool, timers, log } = this.o;
    while (this.running) {
      if (this.stopped401) {
        await this.pause(null);
        continue;
      }
      if (spool.pendingEvents === 0) {
        await this.pause(null);
        continue;
      }
      // linger: give a storm a moment to fill the batch, unless it is full already or we drain
      const linger = this.o.lingerMs ?? 0;
      if (
        linger > 0 &&
        !this.draining &&
        spool.pendingEvents < this.maxEvents &&
        spool.pendingBytes < MAX_BATCH_BYTES
      ) {
        const until = timers.now() + linger;
        while (
          this.running &&
          !this.draining &&
          timers.now() < until &&
          spool.pendingEvents < this.maxEvents &&
          spool.pendingBytes < MAX_BATCH_BYTES
        ) {
          await this.pause(until - timers.now());
        }
        if (!this.running) break;
      }
      let wait: number;
      try {
        wait = await this.shipOnce();
      } catch (e) {
        // the spool could not be read or its cursor written: nothing was removed; try again later
        wait = this.retryLater("spool_io", { err: e });
      }
      if (wait > 0 && this.running) {
        log.debug("shipper: waiting before the next try", { ms: wait });
        await this.pauseIgnoringAppends(wait);
      }
    }
  }

  // backoff is not cut short by new events; only stop() or flush() ends it
  private async pauseIgnoringAppends(ms: number): Promise<void> {
    const s = sleep(this.o.timers, ms);
    this.cancelBackoff = s.cancel;
    await s.done;
    this.cancelBackoff = null;
  }
  private cancelBackoff: (() => void) | null = null;

  // One request. Returns how long to wait before the next one (0: go on at once).
  async shipOnce(): Promise<number> {
    const { spool, log, metrics, timers } = this.o;
    const batch = await spool.peek(this.maxEvents, MAX_BATCH_BYTES);
    if (!batch.events.length) return 0;
    const body = `[${batch.events.map((e) => e.json).join(",")}]`;
    const useGzip = this.o.gzip ?? true;
    const payload = useGzip ? await gzip(body) : Buffer.from(body);
    let res: Response;
    try {
      res = await (this.o.fetch ?? fetch)(this.endpoint, {
        method: "POST",
        headers: {
          authorization: `Bearer ${this.o.token}`,
          "content-type": "application/cloudevents-batch+json",
          ...(useGzip ? { "content-encoding": "gzip" } : {}),
          "user-agent": "poisonwatch-agent/1",
        },
        body: payload,
        signal: AbortSignal.timeout(this.o.requestTimeoutMs ?? 30_000),
      });
    } catch (e) {
      return this.retryLater("network", {
        err: e,
        events: batch.events.length,
      });
    }
    const text = await res.text().catch(() => "");
    if (res.status === 200) {
      let results: Result[] | null = null;
      try {
        results = (JSON.parse(text) as { results?: Result[] }).results ?? null;
      } catch {
        /* handled below */
      }
      const byId = new Map<string, Result>();
      for (const r of results ?? [])
        if (typeof r.id === "string") byId.set(r.id, r);
      const unanswered = batch.events.filter(
        (e) =>
          !["accepted", "duplicate", "rejected"].includes(
            byId.get(e.id)?.status ?? "",
          ),
      );
      if (unanswered.length) {
        // resending the whole batch is safe: what was answered comes back as duplicates
        return this.retryLater("incomplete_answer", {
          events: batch.events.length,
          unanswered: unanswered.length,
        });
      }
      const counts = { accepted: 0, duplicate: 0, rejected: 0 };
      for (const e of batch.events) {
        const r = byId.get(e.id)!;
        counts[r.status as keyof typeof counts] += 1;
        if (r.status === "rejected") {
          log.error(
            "the service rejected an event; it is removed from the spool",
            {
              id: e.id,
              code: r.error?.code,
              reason: r.error?.message,
              event: e.json,
            },
          );
          metrics.inc(
            "poisonwatch_agent_events_rejected_total",
            "Events the service rejected, by code",
            { code: r.error?.code ?? "unknown" },
          );
        }
      }
      await spool.commit(batch.end, batch.events.length);
      for (const [status, n] of Object.entries(counts))
        if (n)
          metrics.inc(
            "poisonwatch_agent_events_shipped_total",
            "Events the service answered, by its answer",
            { status },
            n,
          );
      metrics.inc(
        "poisonwatch_agent_batches_total",
        "Requests to the service, by outcome",
        { outcome: "answered" },
      );
      this.lastSuccessMs = timers.now();
      this.attempt = 0;
      log.debug("shipped", {
        events: batch.events.length,
        ...counts,
        bytes: payload.length,
      });
      return 0;
    }
    if (res.status === 401) {
      this.stopped401 = true;
      metrics.inc(
        "poisonwatch_agent_batches_total",
        "Requests to the service, by outcome",
        { outcome: "unauthorized" },
      );
      log.error(
        "THE SERVICE REFUSED THE HOST TOKEN (401): shipping has stopped; the spool is kept. Fix the token and restart the agent.",
        {
          url: this.endpoint,
          answer: text.slice(0, 500),
          spoolEvents: spool.pendingEvents,
        },
      );
      return 0;
    }
    if (res.status === 413 && this.maxEvents > 1) {
      this.maxEvents = Math.max(1, Math.floor(this.maxEvents / 2));
      log.warn(
        "the service found the batch too large; sending smaller batches",
        { maxEvents: this.maxEvents, answer: text.slice(0, 300) },
      );
      return 0;
    }
    const retryAfter =
      res.status === 429 || res.status === 503
        ? parseRetryAfter(res.headers.get("retry-after"), timers.now())
        : null;
    return this.retryLater(
      `http_${res.status}`,
      {
        status: res.status,
        answer: text.slice(0, 500),
        events: batch.events.length,
      },
      retryAfter,
    );
  }

  private retryLater(
    reason: string,
    fields: Record<string, unknown>,
    retryAfterMs: number | null = null,
  ): number {
    const { log, metrics, timers } = this.o;
    metrics.inc(
      "poisonwatch_agent_batches_total",
      "Requests to the service, by outcome",
      { outcome: reason },
    );
    const backoff = backoffDelay(
      this.attempt,
      this.o.retryBaseMs ?? 500,
      this.o.retryMaxMs ?? 60_000,
      timers.random,
    );
    this.attempt += 1;
    // Retry-After is a floor (never sooner than the service asked), plus a little jitter so a
    // fleet told the same value does not come back in one instant
    const wait =
      retryAfterMs !== null
        ? retryAfterMs +
          Math.round(timers.random() * Math.min(1000, retryAfterMs / 10))
        : backoff;
    log.warn("shipping failed; will retry", {
      reason,
      retryInMs: wait,
      ...fields,
    });
    return wait;
  }

  // SIGTERM: ship what the spool holds now, stopping at the first failure or the deadline.
  async flush(deadlineMs: number): Promise<{ left: number }> {
    this.draining = true;
    this.cancelBackoff?.();
    this.poke();
    const { spool, timers } = this.o;
    // let the loop's request under way finish, then go on ourselves
    this.running = false;
    this.poke();
    await this.loop;
    this.unsubscribe();
    while (
      !this.stopped401 &&
      spool.pendingEvents > 0 &&
      timers.now() < deadlineMs
    ) {
      const wait = await this.shipOnce().catch((e: unknown) =>
        this.retryLater("spool_io", { err: e }),
      );
      if (wait > 0) break;
    }
    return { left: spool.pendingEvents };
  }

  async stop(): Promise<void> {
    this.running = false;
    this.cancelBackoff?.();
    this.poke();
    await this.loop;
    this.unsubscribe();
  }
}

// Seconds, or an HTTP date; null when absent or unreadable.
export function parseRetryAfter(
  v: string | null,
  nowMs: number,
): number | null {
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? null : Math.max(0, t - nowMs);
}
