import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { incidents, webhookEndpoints } from "@/db/schema";
import { setClock } from "@/server/clock";
import { resetEnvCache } from "@/server/env";
import { stopBoss } from "@/server/jobs/boss";
import { runMaintenance } from "@/server/maintenance";
import { deliverDueWebhooks } from "@/server/notify/webhook-worker";
import { api, fleet } from "../helpers/api";
import { startChannelFakes } from "../helpers/channel-fakes";
import type { ChannelFakes } from "../helpers/channel-fakes";
import { gpaOf, memoryEvent } from "../helpers/events";

const CE = "application/cloudevents+json";
const BATCH = "application/cloudevents-batch+json";
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const KEY_A = "A1b2C3d4E5f6G7h8J9k0L1m2N3p4Q5r6";
const KEY_B = "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4";

let fx: ChannelFakes;
let t = Date.now();
const at = () => new Date(t);

beforeAll(async () => {
  fx = await startChannelFakes();
  process.env.PAGERDUTY_EVENTS_URL = fx.eventsUrl;
  resetEnvCache();
  setClock(() => new Date(t));
});
afterEach(async () => {
  // every message any test sent fits its platform's documented schema and limits
  expect(fx.violations).toEqual([]);
  const db = await getDb();
  await db.execute(
    sql`update webhook_endpoints set status = 'disabled' where status = 'enabled'`,
  );
  await db.execute(
    sql`update webhook_deliveries set status = 'failed', next_attempt_at = null where status = 'pending'`,
  );
});
afterAll(async () => {
  delete process.env.PAGERDUTY_EVENTS_URL;
  resetEnvCache();
  await stopBoss();
  await fx.close();
});

async function deliverNow() {
  return deliverDueWebhooks(await getDb(), at());
}

async function sendEvents(
  f: { hostToken: string; hostId: string },
  vmId: string,
  n = 1,
  firstPage = 0,
) {
  const batch = Array.from({ length: n }, (_, i) =>
    memoryEvent({
      hostId: f.hostId,
      vmId,
      time: at().toISOString(),
      gpa: gpaOf((firstPage + i) % 3),
    }),
  );
  const r = await api("POST", "/api/v1/events", {
    token: f.hostToken,
    body: n === 1 ? batch[0] : batch,
    contentType: n === 1 ? CE : BATCH,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function channels(f: { apiKey: string }) {
  const slack = fx.newUrl("slack");
  const teams = fx.newUrl("teams");
  const made = [];
  for (const body of [
    { kind: "slack", url: slack.url, description: "#oncall" },
    { kind: "teams", url: teams.url },
    { kind: "pagerduty", routingKey: KEY_A },
  ]) {
    const r = await api("POST", "/api/v1/channels", { token: f.apiKey, body });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    made.push(r.body);
  }
  return {
    slack: { ...made[0], path: slack.path },
    teams: { ...made[1], path: teams.path },
    pagerduty: made[2],
  };
}

describe("channels (REST)", () => {
  it("creates each kind, answers the URL or routing key whole only then, masks it after, patches and deletes", async () => {
    const f = await fleet();
    const c = await channels(f);
    expect(c.slack).toMatchObject({
      id: expect.stringMatching(/^chn_/),
      kind: "slack",
      url: expect.stringContaining("/slack/"),
      status: "enabled",
      description: "#oncall",
      eventTypes: expect.arrayContaining(["incident.opened"]),
    });
    expect(c.pagerduty).toMatchObject({
      kind: "pagerduty",
      routingKey: KEY_A,
      eventTypes: ["incident.opened", "incident.updated", "incident.resolved"],
    });
    const list = await api("GET", "/api/v1/channels", { token: f.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(3);
    const text = JSON.stringify(list.body);
    expect(text).not.toContain(KEY_A);
    expect(text).not.toContain("s3cr3t");
    const pd = list.body.data.find((x: any) => x.kind === "pagerduty");
    expect(pd.routingKey).toBe("A1b2…q5r6".replace("q5r6", "Q5r6"));
    const sl = list.body.data.find((x: any) => x.kind === "slack");
    expect(sl.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/…/);
    // channels are not webhooks, and webhooks are not channels
    const hooks = await api("GET", "/api/v1/webhooks", { token: f.apiKey });
    expect(hooks.body.data).toEqual([]);
    expect(
      (
        await api("PATCH", `/api/v1/webhooks/${c.slack.id}`, {
          token: f.apiKey,
          body: { description: "x" },
        })
      ).status,
    ).toBe(404);
    const byKind = await api("GET", "/api/v1/channels?kind=teams", {
      token: f.apiKey,
    });
    expect(byKind.body.data.map((x: any) => x.id)).toEqual([c.teams.id]);

    const patched = await api("PATCH", `/api/v1/channels/${c.pagerduty.id}`, {
      token: f.apiKey,
      body: { routingKey: KEY_B, description: "primary on-call" },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({
      routingKey: "Z9y8…L5k4",
      description: "primary on-call",
    });
    const db = await getDb();
    const [row] = await db
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, c.pagerduty.id));
    expect(row!.secret).toBe(KEY_B);

    const del = await api("DELETE", `/api/v1/channels/${c.teams.id}`, {
      token: f.apiKey,
    });
    expect(del.status).toBe(204);
    expect(
      (
        await api("GET", `/api/v1/channels/${c.teams.id}/deliveries`, {
          token: f.apiKey,
        })
      ).status,
    ).toBe(404);
  });

  it("answers bad input with 400 and field details, and applies the SSRF rule", async () => {
    const f = await fleet();
    const cases: [unknown, string][] = [
      [{ kind: "slack" }, "url"],
      [{ kind: "pagerduty", routingKey: "short" }, "routingKey"],
      [{ kind: "pagerduty", url: "https://x.example" }, ""],
      [{ kind: "email", url: "https://x.example" }, "kind"],
      [
        {
          kind: "pagerduty",
          routingKey: KEY_A,
          eventTypes: ["memory_error.detected"],
        },
        "eventTypes.0",
      ],
      [
        { kind: "slack", url: "https://x.example", eventTypes: [] },
        "eventTypes",
      ],
    ];
    for (const [body, path] of cases) {
      const r = await api("POST", "/api/v1/channels", {
        token: f.apiKey,
        body,
      });
      expect(r.status, JSON.stringify({ body, answer: r.body })).toBe(400);
      expect(r.body.error.code).toBe("invalid_request");
      if (path)
        expect(r.body.error.details.map((d: any) => d.path)).toContain(path);
    }
    const slack = await api("POST", "/api/v1/channels", {
      token: f.apiKey,
      body: { kind: "slack", url: fx.newUrl("slack").url },
    });
    const wrong = await api("PATCH", `/api/v1/channels/${slack.body.id}`, {
      token: f.apiKey,
      body: { routingKey: KEY_A },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details[0].path).toBe("routingKey");

    process.env.WEBHOOK_ALLOW_PRIVATE = "0";
    resetEnvCache();
    try {
      for (const url of [
        "http://hooks.slack.com/services/T/B/x",
        "https://127.0.0.1/services/T/B/x",
        "https://10.0.0.8/teams",
      ]) {
        const r = await api("POST", "/api/v1/channels", {
          token: f.apiKey,
          body: { kind: "teams", url },
        });
        expect(r.status, url).toBe(400);
        expect(r.body.error.details[0].path).toBe("url");
      }
    } finally {
      process.env.WEBHOOK_ALLOW_PRIVATE = "1";
      resetEnvCache();
    }
  });

  it("keeps tenants apart: another tenant's channel is 404 on every route", async () => {
    const a = await fleet();
    const b = await fleet();
    const ca = await channels(a);
    for (const [method, path, body] of [
      ["PATCH", `/api/v1/channels/${ca.slack.id}`, { description: "x" }],
      ["DELETE", `/api/v1/channels/${ca.slack.id}`, undefined],
      ["POST", `/api/v1/channels/${ca.slack.id}/test`, undefined],
      ["GET", `/api/v1/channels/${ca.slack.id}/deliveries`, undefined],
    ] as const) {
      const r = await api(method, path, { token: b.apiKey, body });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(JSON.stringify(r.body)).not.toContain(a.tenantId);
    }
    const list = await api("GET", "/api/v1/channels", { token: b.apiKey });
    expect(list.body.data).toEqual([]);
  });
});

describe("channel messages", () => {
  it("renders an incident for Slack (Block Kit), Teams (Adaptive Card 1.4) and PagerDuty (Events API v2)", async () => {
    const f = await fleet();
    const c = await channels(f);
    await sendEvents(f, f.vmId);
    await deliverNow();
    const [inc] = await (
      await getDb()
    )
      .select()
      .from(incidents)
      .where(eq(incidents.vmId, f.vmId));

    const [slack] = fx.on(c.slack.path);
    expect(slack!.answered).toBe(200);
    const blocks = slack!.body.blocks as any[];
    expect(blocks[0]).toMatchObject({ type: "header" });
    expect(blocks[0].text.text).toContain(inc!.vmName);
    expect(blocks[0].text.text).toContain("memory error");
    expect(slack!.body.text).toContain(inc!.vmName);
    const fields = blocks[1].fields.map((x: any) => x.text).join("\n");
    expect(fields).toContain("*Severity*\nCRITICAL");
    expect(fields).toContain(f.projectId);
    // the first step that asks something of the reader, not the playbook's description
    expect(blocks[2].text.text).toMatch(
      /^\*First step: Find the affected process\*/,
    );
    const button = blocks.find((b) => b.type === "actions").elements[0];
    expect(button.url).toMatch(new RegExp(`/incidents/${inc!.id}$`));

    const [teams] = fx.on(c.teams.path);
    expect(teams!.answered).toBe(202);
    const card = teams!.body.attachments[0].content;
    expect(card.version).toBe("1.4");
    expect(card.body[0].text).toContain(inc!.vmName);
    expect(
      card.body.find((e: any) => e.type === "FactSet").facts,
    ).toContainEqual({ title: "Severity", value: "CRITICAL" });
    expect(card.actions[0].url).toMatch(new RegExp(`/incidents/${inc!.id}$`));

    const [pd] = fx.pagerduty(KEY_A);
    expect(pd!.answered).toBe(202);
    expect(pd!.body).toMatchObject({
      routing_key: KEY_A,
      event_action: "trigger",
      dedup_key: inc!.id,
      payload: {
        source: inc!.vmName,
        severity: "critical",
        component: f.vmId,
        group: f.projectId,
        class: inc!.playbookKey,
      },
      links: [
        { href: expect.stringMatching(new RegExp(`/incidents/${inc!.id}$`)) },
      ],
    });
    expect([...pd!.body.payload.summary].length).toBeLessThanOrEqual(1024);
    expect(pd!.body.payload.custom_details["First step"]).toBeTruthy();
  });

  it("pages once for a storm on one VM, updates that one alert when the window closes, and resolves it", async () => {
    const f = await fleet();
    const key = "S7o8R9m0P1a2G3e4O5n6C7e8X9y0Z1a2";
    const pd = await api("POST", "/api/v1/channels", {
      token: f.apiKey,
      body: { kind: "pagerduty", routingKey: key },
    });
    expect(pd.status).toBe(201);
    const start = t;
    // 600 errors in 60 s, on three pages (below the evacuation threshold)
    for (let i = 0; i < 60; i++) {
      t = start + i * 1000;
      await sendEvents(f, f.vmId, 10, i);
      if (i % 20 === 0) await deliverNow();
    }
    await deliverNow();
    await runMaintenance(await getDb(), at());
    await deliverNow();
    const sent = () => fx.pagerduty(key).map((r) => r.body);
    expect(sent().map((b) => b.event_action)).toEqual(["trigger"]);
    const dedup = sent()[0].dedup_key;
    expect(fx.alerts.get(dedup)).toEqual({ status: "triggered", triggers: 1 });

    // the coalescing window closes: one update of the same alert
    t = start + 300_000 + 1000;
    await runMaintenance(await getDb(), at());
    await deliverNow();
    expect(sent().map((b) => [b.event_action, b.dedup_key])).toEqual([
      ["trigger", dedup],
      ["trigger", dedup],
    ]);
    expect(sent()[1].payload.summary).toMatch(/600 errors/);
    // one alert, however many errors
    expect([...fx.alerts.keys()].filter((k) => k === dedup)).toHaveLength(1);

    // quiet for the quiet period: resolved
    t += 2 * DAY;
    await runMaintenance(await getDb(), at());
    await deliverNow();
    expect(sent().at(-1)).toEqual({
      routing_key: key,
      event_action: "resolve",
      dedup_key: dedup,
    });
    expect(fx.alerts.get(dedup)!.status).toBe("resolved");
  });

  it("retries after a 500 and honours a 429's Retry-After, with every attempt in the delivery log", async () => {
    const f = await fleet();
    const slack = fx.newUrl("slack");
    const ch = await api("POST", "/api/v1/channels", {
      token: f.apiKey,
      body: { kind: "slack", url: slack.url },
    });
    fx.plan(slack.path, [
      { status: 500, body: "internal_error" },
      { status: 429, headers: { "retry-after": "120" }, body: "rate_limited" },
    ]);
    await sendEvents(f, f.vmId);
    await deliverNow();
    const log = async () =>
      (
        await api("GET", `/api/v1/channels/${ch.body.id}/deliveries`, {
          token: f.apiKey,
        })
      ).body.data as any[];
    let [d] = await log();
    expect(d).toMatchObject({ type: "incident.opened", status: "pending" });
    expect(d.attempts).toMatchObject([
      { statusCode: 500, responseExcerpt: "internal_error" },
    ]);
    // the first retry comes ~5 s later (with jitter) and meets the 429
    t += 10_000;
    await deliverNow();
    [d] = await log();
    expect(d.attempts.map((a: any) => a.statusCode)).toEqual([500, 429]);
    const next = Date.parse(d.nextAttemptAt);
    expect(next - t).toBeGreaterThanOrEqual(120_000);
    // not before Retry-After
    t += 60_000;
    await deliverNow();
    expect(fx.on(slack.path)).toHaveLength(2);
    t = next + 1;
    await deliverNow();
    [d] = await log();
    expect(d.status).toBe("succeeded");
    expect(d.attempts.map((a: any) => a.statusCode)).toEqual([500, 429, 200]);
    expect(fx.on(slack.path)).toHaveLength(3);
  });

  it("disables a Slack channel that answers 410 and emails the owners without its URL", async () => {
    const f = await fleet();
    const slack = fx.newUrl("slack");
    const ch = await api("POST", "/api/v1/channels", {
      token: f.apiKey,
      body: { kind: "slack", url: slack.url, description: "#gone" },
    });
    fx.plan(slack.path, [{ status: 410, body: "channel_is_archived" }]);
    await sendEvents(f, f.vmId);
    await deliverNow();
    const got = await api("GET", "/api/v1/channels", { token: f.apiKey });
    expect(got.body.data[0]).toMatchObject({
      id: ch.body.id,
      status: "disabled",
      disabledReason: "it answered 410 Gone",
    });
    const test = await api("POST", `/api/v1/channels/${ch.body.id}/test`, {
      token: f.apiKey,
    });
    expect(test.status).toBe(409);
    const rows = await rawRows<{ text: string }>(
      await getDb(),
      sql`select text from emails where tenant_id = ${f.tenantId} and kind = 'endpoint_disabled'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]!.text).toContain("Slack channel #gone");
    expect(rows[0]!.text).not.toContain("s3cr3t");
  });

  it("sends a test message through each channel's renderer and logs the platform's answer", async () => {
    const f = await fleet();
    const c = await channels(f);
    for (const ch of [c.slack, c.teams, c.pagerduty]) {
      const r = await api("POST", `/api/v1/channels/${ch.id}/test`, {
        token: f.apiKey,
      });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
      expect(r.body).toMatchObject({
        messageId: expect.stringMatching(/^msg_/),
        deliveryId: expect.stringMatching(/^dlv_/),
      });
    }
    await deliverNow();
    expect(fx.on(c.slack.path)[0]!.body.blocks[0].text.text).toBe(
      "Poisonwatch test message",
    );
    expect(
      fx.on(c.teams.path)[0]!.body.attachments[0].content.body[0].text,
    ).toBe("Poisonwatch test message");
    const pdTest = fx.pagerduty(KEY_A).at(-1)!.body;
    expect(pdTest).toMatchObject({
      event_action: "trigger",
      payload: { severity: "info", class: "test" },
    });
    const d = await api(
      "GET",
      `/api/v1/channels/${c.pagerduty.id}/deliveries`,
      {
        token: f.apiKey,
      },
    );
    expect(d.body.data[0]).toMatchObject({
      type: "webhook.test",
      status: "succeeded",
      attempts: [
        {
          statusCode: 202,
          responseExcerpt: expect.stringContaining('"status":"success"'),
        },
      ],
    });
  });
});
