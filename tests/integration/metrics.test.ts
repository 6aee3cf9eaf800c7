import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { setClock } from "@/server/clock";
import { deliverDueWebhooks } from "@/server/notify/webhook-worker";
import { api, fleet, operator } from "../helpers/api";
import { memoryEvent } from "../helpers/events";
import { startReceiver } from "../helpers/notify-fakes";

// GET /api/v1/admin/metrics, as Prometheus and its tools read it. promtool (Debian's `prometheus`)
// and the OpenMetrics parser of the Prometheus Python client (Debian's python3-prometheus-client)
// are the reference readers; .ci/run installs both.
const PROMTOOL = "/usr/bin/promtool";
const PYTHON = "/usr/bin/python3";
const OPENMETRICS_PARSE = `
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
n = sum(1 for _ in text_string_to_metric_families(sys.stdin.read()))
print(n)
`;

async function scrape(accept?: string) {
  const r = await api<string>("GET", "/api/v1/admin/metrics", {
    token: await operator(),
    headers: accept ? { accept } : {},
  });
  expect(r.status).toBe(200);
  return { text: r.body, contentType: r.headers.get("content-type") ?? "" };
}

function sample(text: string, line: RegExp): number {
  const m = text.split("\n").find((l) => line.test(l));
  return m ? Number(m.split(" ").pop()) : 0;
}

describe("metrics exposition", () => {
  it("passes promtool check metrics with no finding", async () => {
    expect(
      existsSync(PROMTOOL),
      `${PROMTOOL} is missing: apt-get install prometheus`,
    ).toBe(true);
    const f = await fleet();
    await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
    });
    const { text, contentType } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const r = spawnSync(PROMTOOL, ["check", "metrics"], {
      input: text,
      encoding: "utf8",
    });
    expect(`${r.stdout}${r.stderr}`.trim()).toBe("");
    expect(r.status).toBe(0);
  });

  it("is one block per family (HELP, TYPE, then its samples) and parses as the Prometheus text format", async () => {
    const { text } = await scrape();
    const families = parsePrometheusTextFormat(text);
    const names = families.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    // a sample belongs to the family whose TYPE line came last: no family is interleaved with another
    let current = "";
    const seen = new Set<string>();
    for (const line of text.split("\n")) {
      const type = /^# TYPE (\S+) /.exec(line);
      if (type) {
        expect(seen.has(type[1]!), `${type[1]} appears twice`).toBe(false);
        seen.add((current = type[1]!));
      } else if (line && !line.startsWith("#")) {
        const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
        expect(
          [current, `${current}_bucket`, `${current}_sum`, `${current}_count`],
          line,
        ).toContain(name);
      }
    }
    const byName = new Map(families.map((f) => [f.name, f]));
    // latency in seconds, with buckets (a p99 can be computed)
    for (const h of [
      "poisonwatch_ingest_transaction_duration_seconds",
      "poisonwatch_webhook_attempt_duration_seconds",
      "poisonwatch_delivery_latency_seconds",
    ]) {
      expect(byName.get(h)?.type, h).toBe("HISTOGRAM");
    }
    expect(names.filter((n) => /_ms(_|$)/.test(n))).toEqual([]);
    // process metrics, without the gauges named like counters
    expect(byName.get("process_cpu_user_seconds_total")?.type).toBe("COUNTER");
    expect(byName.get("nodejs_heap_size_used_bytes")?.type).toBe("GAUGE");
    expect(
      families
        .filter((f) => f.type !== "COUNTER" && f.name.endsWith("_total"))
        .map((f) => f.name),
    ).toEqual([]);
    // the fleet's gauges, computed at scrape time
    expect(byName.get("poisonwatch_hosts")?.type).toBe("GAUGE");
    expect(byName.get("poisonwatch_queue_depth")?.type).toBe("GAUGE");
  });

  it("answers OpenMetrics to a scraper that asks for it, and the OpenMetrics parser reads it", async () => {
    expect(existsSync(PYTHON), `${PYTHON} is missing`).toBe(true);
    const { text, contentType } = await scrape(
      "application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5",
    );
    expect(contentType).toMatch(
      /^application\/openmetrics-text; version=1\.0\.0/,
    );
    expect(text.trimEnd().endsWith("# EOF")).toBe(true);
    const r = spawnSync(PYTHON, ["-c", OPENMETRICS_PARSE], {
      input: text,
      encoding: "utf8",
    });
    expect(r.stderr, "apt-get install python3-prometheus-client").toBe("");
    expect(r.status).toBe(0);
    expect(Number(r.stdout)).toBeGreaterThan(20);
    // and the text format after it still names counters with _total (prom-client renames them for OpenMetrics)
    expect((await scrape()).text).toMatch(
      /^# TYPE poisonwatch_ingest_requests_rejected_total counter$/m,
    );
  });

  it("counts whole ingestion requests refused, by reason, and times the ingestion transaction", async () => {
    const f = await fleet();
    const before = (await scrape()).text;
    const rejected = (reason: string) => (text: string) =>
      sample(
        text,
        new RegExp(
          `^poisonwatch_ingest_requests_rejected_total\\{reason="${reason}"\\} `,
        ),
      );
    const committed = (text: string) =>
      sample(text, /^poisonwatch_ingest_transaction_duration_seconds_count /);
    const send = (opts: Parameters<typeof api>[2]) =>
      api("POST", "/api/v1/events", opts);
    expect(
      (await send({ body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }) }))
        .status,
    ).toBe(401);
    expect(
      (
        await send({
          token: "pwh_unknown",
          body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await send({
          token: f.hostToken,
          rawBody: "{nope",
          contentType: "application/cloudevents+json",
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await send({
          token: f.hostToken,
          rawBody: "x",
          contentType: "text/plain",
        })
      ).status,
    ).toBe(415);
    expect(
      (
        await send({
          token: f.hostToken,
          rawBody: "[" + "1,".repeat(600_000) + "1]",
          contentType: "application/cloudevents-batch+json",
        })
      ).status,
    ).toBe(413);
    expect(
      (
        await send({
          token: f.hostToken,
          body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
        })
      ).status,
    ).toBe(200);
    const after = (await scrape()).text;
    expect(
      rejected("unauthorized")(after) - rejected("unauthorized")(before),
    ).toBe(2);
    expect(
      rejected("invalid_request")(after) - rejected("invalid_request")(before),
    ).toBe(1);
    expect(
      rejected("unsupported_media_type")(after) -
        rejected("unsupported_media_type")(before),
    ).toBe(1);
    expect(
      rejected("payload_too_large")(after) -
        rejected("payload_too_large")(before),
    ).toBe(1);
    expect(committed(after) - committed(before)).toBeGreaterThanOrEqual(1);
    expect(
      sample(
        after,
        /^poisonwatch_ingest_transaction_duration_seconds_bucket\{le="\+Inf"\} /,
      ),
    ).toBe(committed(after));
  });

  it("observes a webhook attempt's duration and the time from the message to its delivery, in seconds", async () => {
    const f = await fleet();
    const rx = await startReceiver();
    let t = Date.parse("2026-05-04T10:00:00.000Z");
    setClock(() => new Date(t));
    try {
      const path = rx.newPath();
      const hook = await api("POST", "/api/v1/webhooks", {
        token: f.apiKey,
        body: { url: rx.url(path), eventTypes: ["incident.opened"] },
      });
      expect(hook.status).toBe(201);
      rx.setSecrets(path, [hook.body.secret]);
      const before = (await scrape()).text;
      expect(
        (
          await api("POST", `/api/v1/webhooks/${hook.body.id}/test`, {
            token: f.apiKey,
          })
        ).status,
      ).toBe(202);
      t += 2000;
      await deliverDueWebhooks(await getDb(), new Date(t));
      expect(rx.received.filter((r) => r.path === path)).toHaveLength(1);
      const after = (await scrape()).text;
      const delta = (line: RegExp) =>
        sample(after, line) - sample(before, line);
      expect(
        delta(
          /^poisonwatch_webhook_attempt_duration_seconds_count\{kind="webhook"\} /,
        ),
      ).toBe(1);
      expect(
        delta(
          /^poisonwatch_delivery_latency_seconds_count\{channel="webhook"\} /,
        ),
      ).toBe(1);
      // recorded at t, delivered 2 s later by the test's clock: in the 2.5 s bucket, not the 1 s one
      expect(
        delta(
          /^poisonwatch_delivery_latency_seconds_sum\{channel="webhook"\} /,
        ),
      ).toBeCloseTo(2, 3);
      expect(
        delta(
          /^poisonwatch_delivery_latency_seconds_bucket\{le="2.5",channel="webhook"\} /,
        ),
      ).toBe(1);
      expect(
        delta(
          /^poisonwatch_delivery_latency_seconds_bucket\{le="1",channel="webhook"\} /,
        ),
      ).toBe(0);
    } finally {
      setClock(undefined);
      await rx.close();
    }
  });
});
