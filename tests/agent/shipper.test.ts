import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "@/agent/agent";
import type { AgentConfig } from "@/agent/agent";
import { parseRetryAfter } from "@/agent/shipper";
import { memoryLog, tempDir } from "../helpers/agent-kit";
import { fakeService } from "../helpers/fake-service";
import { FakeTimers, settle, until } from "../helpers/fake-timers";

const cleanups: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(cfg: Partial<AgentConfig> = {}) {
  const service = await fakeService();
  cleanups.push(service.close);
  const timers = new FakeTimers();
  const logs = memoryLog();
  const spoolDir = cfg.spoolDir ?? tempDir();
  const agent = await Agent.start(
    {
      url: service.url,
      token: "pwh_test",
      hostId: "host-a17",
      arch: "arm64",
      spoolDir,
      metricsListen: { host: "127.0.0.1", port: 0 },
      ...cfg,
    },
    { timers, log: logs.log },
  );
  cleanups.push(() => agent.stop({ flush: false }));
  return { service, timers, logs, agent, spoolDir };
}

const data = (i: number) => ({
  vmId: `vm-${i % 7}`,
  hostId: "host-a17",
  arch: "arm64",
  mechanism: "sigbus",
  sigbus: {
    code: "BUS_MCEERR_AR",
    addrLsb: 12,
    gpa: "0x" + (0x1000 * (i + 1)).toString(16).padStart(16, "0"),
  },
});

async function spoolN(agent: Agent, n: number, from = 0): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      agent.spoolEvent("intake", data(from + i), new Date().toISOString()),
    ),
  );
}

async function scrape(agent: Agent, path: string) {
  const r = await fetch(`http://127.0.0.1:${agent.metricsPort}${path}`);
  return { status: r.status, text: await r.text() };
}

describe("shipping", () => {
  it("ships gzip'ed CloudEvents batches of at most 1,000 events and removes them once answered", async () => {
    const { service, agent } = await setup();
    const ids = await spoolN(agent, 2500);
    await until("all answered", () => agent.spool.pendingEvents === 0);
    const sizes = service.requests.map((r) => r.events.length);
    expect(sizes.every((n) => n <= 1000)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2500);
    expect(new Set(service.stored.keys())).toEqual(new Set(ids));
    const h = service.requests[0]!.headers;
    expect(h["content-encoding"]).toBe("gzip");
    expect(h["content-type"]).toBe("application/cloudevents-batch+json");
    expect(h.authorization).toBe("Bearer pwh_test");
    const e = service.requests[0]!.events[0]!;
    expect(e).toMatchObject({
      specversion: "1.0",
      source: "/hosts/host-a17",
      type: "vmm.memory_error.v1",
      subject: "vm-0",
      datacontenttype: "application/json",
    });
    expect(e.data).toEqual(data(0));
    expect(
      agent.metrics.get("poisonwatch_agent_events_shipped_total", {
        status: "accepted",
      }),
    ).toBe(2500);
  });

  it("keeps a batch's uncompressed body within 1 MiB", async () => {
    const { service, agent } = await setup();
    const big = {
      vmId: "vm-1",
      mechanism: "sigbus",
      sigbus: { code: "BUS_MCEERR_AO", addrLsb: 12 },
    };
    // ~4 KiB events: a 1,000-event batch would be ~4 MiB
    await Promise.all(
      Array.from({ length: 600 }, () =>
        agent.spoolEvent(
          "intake",
          { ...big, vmId: "vm-" + "x".repeat(100) },
          new Date().toISOString(),
        ),
      ),
    );
    const padded = Array.from({ length: 600 }, () =>
      agent.spoolEvent(
        "intake",
        { ...big, vmId: "v".repeat(120) },
        new Date().toISOString(),
      ),
    );
    await Promise.all(padded);
    await until("all answered", () => agent.spool.pendingEvents === 0);
    for (const r of service.requests)
      expect(Buffer.byteLength(JSON.stringify(r.events))).toBeLessThanOrEqual(
        1024 * 1024,
      );
  });

  it("retries failures with growing, jittered backoff and removes nothing until answered", async () => {
    const { service, timers, agent, logs } = await setup({
      retryBaseMs: 1000,
      retryMaxMs: 8000,
    });
    service.setFallback({
      status: 500,
      body: { error: { code: "internal", message: "boom" } },
    });
    await spoolN(agent, 10);
    await until("first try", () => service.requests.length === 1);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      await until("a wait", () => timers.pending().length > 0);
      const w = timers.pending()[0]!;
      waits.push(w);
      await timers.advance(w);
      await until(`try ${i + 2}`, () => service.requests.length === i + 2);
    }
    // random() = 0.5: three quarters of 1, 2, 4, 8, 8 seconds
    expect(waits).toEqual([750, 1500, 3000, 6000, 6000]);
    expect(agent.spool.pendingEvents).toBe(10);
    expect(logs.has("warn", "shipping failed")).toBe(true);
    service.setFallback("default");
    await until("a wait", () => timers.pending().length > 0);
    await timers.advance(timers.pending()[0]!);
    await until("answered", () => agent.spool.pendingEvents === 0);
    expect(service.stored.size).toBe(10);
  });

  it("the jitter spreads retries: random() moves the wait between half and all of the step", async () => {
    const { service, timers, agent } = await setup({ retryBaseMs: 1000 });
    service.setFallback({ status: 502 });
    timers.random = () => 0;
    await spoolN(agent, 1);
    await until("a wait", () => timers.pending().length > 0);
    expect(timers.pending()[0]).toBe(500);
    timers.random = () => 1;
    await timers.advance(500);
    await until(
      "second try",
      () => service.requests.length === 2 && timers.pending().length > 0,
    );
    expect(timers.pending()[0]).toBe(2000);
  });

  it("honours Retry-After on 429 and 503: not one request sooner", async () => {
    const { service, timers, agent } = await setup({ retryBaseMs: 100 });
    timers.random = () => 0;
    service.answer({
      status: 429,
      headers: { "retry-after": "30" },
      body: { error: { code: "rate_limited", message: "slow down" } },
    });
    // an HTTP date two minutes after the answer (whole seconds, as HTTP dates are)
    let dateMs = 0;
    service.answer(() => {
      dateMs = Math.floor((timers.now() + 120_000) / 1000) * 1000;
      return {
        status: 503,
        headers: { "retry-after": new Date(dateMs).toUTCString() },
      };
    });
    await spoolN(agent, 5);
    await until(
      "waiting after the 429",
      () => service.requests.length === 1 && timers.pending().length > 0,
    );
    expect(timers.pending()).toEqual([30_000]);
    await timers.advance(29_999);
    expect(service.requests).toHaveLength(1);
    expect(timers.pending()).toEqual([1]);
    await timers.advance(1);
    await until(
      "waiting after the 503",
      () => service.requests.length === 2 && timers.pending().length > 0,
    );
    expect(timers.pending()).toEqual([dateMs - timers.now()]);
    expect(dateMs - timers.now()).toBeGreaterThan(119_000);
    await timers.advance(dateMs - timers.now());
    await until("answered", () => agent.spool.pendingEvents === 0);
    expect(service.requests).toHaveLength(3);
  });

  it("401 stops shipping loudly, keeps the spool, and says so on /healthz and /metrics", async () => {
    const { service, timers, agent, logs } = await setup();
    service.setFallback({
      status: 401,
      body: { error: { code: "unauthorized", message: "Unknown host token" } },
    });
    await spoolN(agent, 3);
    await until("refused", () => agent.shipper.unauthorized);
    expect(
      logs.lines.some(
        (l) =>
          l.level === "error" &&
          String(l.msg).includes("REFUSED THE HOST TOKEN"),
      ),
    ).toBe(true);
    await spoolN(agent, 2, 3);
    await timers.advance(3_600_000);
    expect(service.requests).toHaveLength(1);
    expect(agent.spool.pendingEvents).toBe(5);
    const health = await scrape(agent, "/healthz");
    expect(health.status).toBe(503);
    expect(JSON.parse(health.text).problems[0]).toMatch(/401/);
    expect((await scrape(agent, "/metrics")).text).toMatch(
      /^poisonwatch_agent_shipping_stopped 1$/m,
    );
    await agent.stop({ flush: true });
    expect(service.requests).toHaveLength(1);
  });

  it("a spool past its configured size is reported on /healthz and /metrics; nothing is dropped", async () => {
    const { service, agent, logs } = await setup({ spoolMaxBytes: 2000 });
    service.setFallback({ status: 503 });
    await spoolN(agent, 20);
    const health = await scrape(agent, "/healthz");
    expect(health.status).toBe(503);
    expect(JSON.parse(health.text).problems[0]).toMatch(/over its 2000/);
    expect((await scrape(agent, "/metrics")).text).toMatch(
      /^poisonwatch_agent_spool_over_limit 1$/m,
    );
    expect(logs.has("error", "over its configured size")).toBe(true);
    expect(agent.spool.pendingEvents).toBe(20);
  });

  it("a rejected event is removed and its reason logged; the rest are stored", async () => {
    const { service, agent, logs } = await setup();
    service.setFallback((events) => ({
      status: 200,
      body: {
        results: events.map((e) =>
          (e.data as { vmId: string }).vmId === "vm-bad"
            ? {
                id: e.id,
                status: "rejected",
                error: {
                  code: "invalid_request",
                  message:
                    "Invalid event: time: is more than 7 days in the past",
                },
              }
            : { id: e.id, status: "accepted" },
        ),
      },
    }));
    const [, bad] = await Promise.all([
      spoolN(agent, 2),
      agent.spoolEvent(
        "intake",
        { ...data(5), vmId: "vm-bad" },
        new Date().toISOString(),
      ),
    ]);
    await until("answered", () => agent.spool.pendingEvents === 0);
    expect(
      logs.lines.find((l) => l.level === "error" && l.id === bad)?.reason,
    ).toMatch(/7 days/);
    expect(
      agent.metrics.get("poisonwatch_agent_events_rejected_total", {
        code: "invalid_request",
      }),
    ).toBe(1);
    expect(
      agent.metrics.get("poisonwatch_agent_events_shipped_total", {
        status: "rejected",
      }),
    ).toBe(1);
    expect(
      agent.metrics.get("poisonwatch_agent_events_shipped_total", {
        status: "accepted",
      }),
    ).toBe(2);
  });

  it("an answer that leaves events out is retried whole; the resend is answered duplicate", async () => {
    const { service, timers, agent } = await setup();
    let first = true;
    service.setFallback((events) => {
      if (!first) return "default";
      first = false;
      for (const e of events) service.stored.set(e.id, e);
      return {
        status: 200,
        body: {
          results: [{ id: events[0]!.id, status: "accepted" }].slice(
            0,
            events.length - 1,
          ),
        },
      };
    });
    await spoolN(agent, 1);
    await until(
      "first try",
      () => service.requests.length === 1 && timers.pending().length > 0,
    );
    expect(agent.spool.pendingEvents).toBe(1);
    await timers.advance(timers.pending()[0]!);
    await until("answered", () => agent.spool.pendingEvents === 0);
    expect(service.requests[1]!.events.map((e) => e.id)).toEqual(
      service.requests[0]!.events.map((e) => e.id),
    );
    expect(
      agent.metrics.get("poisonwatch_agent_events_shipped_total", {
        status: "duplicate",
      }),
    ).toBe(1);
  });

  it("413: smaller batches", async () => {
    const { service, agent } = await setup();
    service.answer({
      status: 413,
      body: { error: { code: "payload_too_large", message: "too big" } },
    });
    await spoolN(agent, 40);
    await until("answered", () => agent.spool.pendingEvents === 0);
    expect(service.requests[1]!.events.length).toBeLessThanOrEqual(500);
  });

  it("the service unreachable: retried until it is back", async () => {
    const { service, timers, agent } = await setup();
    await service.close();
    await spoolN(agent, 4);
    await until("a wait", () => timers.pending().length > 0);
    expect(
      agent.metrics.get("poisonwatch_agent_batches_total", {
        outcome: "network",
      }),
    ).toBe(1);
    expect(agent.spool.pendingEvents).toBe(4);
  });

  it("linger: waits to fill a batch, but never past the linger", async () => {
    const { service, timers, agent } = await setup({ lingerMs: 1000 });
    await spoolN(agent, 3);
    await settle();
    await timers.advance(999);
    expect(service.requests).toHaveLength(0);
    await spoolN(agent, 2, 3);
    await timers.advance(1);
    await until("shipped", () => agent.spool.pendingEvents === 0);
    expect(service.requests.map((r) => r.events.length)).toEqual([5]);
  });

  it("stop (SIGTERM) flushes at once, cutting short linger and backoff", async () => {
    const { service, timers, agent } = await setup({ lingerMs: 1000 });
    service.answer({ status: 503 });
    await spoolN(agent, 2);
    await timers.advance(1000);
    await until(
      "backing off",
      () => service.requests.length === 1 && timers.pending().length > 0,
    );
    await spoolN(agent, 3, 2);
    const { left } = await agent.stop({ flush: true });
    expect(left).toBe(0);
    expect(service.stored.size).toBe(5);
  });

  it("stop with the service down leaves the events in the spool for the next start", async () => {
    const { service, agent, spoolDir, timers } = await setup();
    service.setFallback({ status: 503 });
    await spoolN(agent, 7);
    await until("tried", () => service.requests.length >= 1);
    const { left } = await agent.stop({ flush: true, deadlineMs: 5000 });
    expect(left).toBe(7);
    service.setFallback("default");
    const again = await Agent.start(
      {
        url: service.url,
        token: "pwh_test",
        hostId: "host-a17",
        arch: "arm64",
        spoolDir,
      },
      { timers, log: memoryLog().log },
    );
    cleanups.push(() => again.stop({ flush: false }));
    await until("shipped on start", () => again.spool.pendingEvents === 0);
    expect(service.stored.size).toBe(7);
  });

  it("/metrics speaks Prometheus text with the spec's series; /healthz answers ok", async () => {
    const { agent, timers } = await setup();
    await spoolN(agent, 2);
    await until("shipped", () => agent.spool.pendingEvents === 0);
    await timers.advance(42_000);
    const m = (await scrape(agent, "/metrics")).text;
    expect(m).toContain(
      'poisonwatch_agent_events_received_total{source="intake"} 2',
    );
    expect(m).toContain(
      'poisonwatch_agent_events_received_total{source="qmp"} 0',
    );
    expect(m).toContain(
      'poisonwatch_agent_events_shipped_total{status="accepted"} 2',
    );
    expect(m).toMatch(/^poisonwatch_agent_spool_events 0$/m);
    expect(m).toMatch(/^poisonwatch_agent_seconds_since_last_shipment 42$/m);
    expect(m).toContain(
      "# TYPE poisonwatch_agent_events_received_total counter",
    );
    const h = await scrape(agent, "/healthz");
    expect(h.status).toBe(200);
    expect(JSON.parse(h.text)).toMatchObject({
      ok: true,
      status: "ok",
      spoolEvents: 0,
    });
    expect((await scrape(agent, "/nope")).status).toBe(404);
  });

  it("Retry-After: seconds or an HTTP date", () => {
    expect(parseRetryAfter("7", 0)).toBe(7000);
    expect(parseRetryAfter(new Date(60_000).toUTCString(), 0)).toBe(60_000);
    expect(parseRetryAfter("soon", 0)).toBeNull();
    expect(parseRetryAfter(null, 0)).toBeNull();
  });
});
