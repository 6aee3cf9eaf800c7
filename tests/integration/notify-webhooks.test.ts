import { and, eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getDb, getDbHandle } from "@/db";
import { rawRows } from "@/db/client";
import { newId } from "@/db/ids";
import {
  emails,
  evacuations,
  incidents,
  vms,
  webhookDeliveries,
  webhookEndpoints,
} from "@/db/schema";
import { setClock } from "@/server/clock";
import { resetEnvCache } from "@/server/env";
import { getBoss, startWorkers, stopBoss } from "@/server/jobs/boss";
import "@/server/jobs/workers";
import { enqueueEvacuationNotifications } from "@/server/notify/enqueue";
import {
  CLAIM_LEASE_MS,
  claimDueDeliveries,
  deliverDueWebhooks,
} from "@/server/notify/webhook-worker";
import { api, fleet, uid } from "../helpers/api";
import { memoryEvent } from "../helpers/events";
import { pointCallbackAt, startReceiver } from "../helpers/notify-fakes";
import type { Receiver } from "../helpers/notify-fakes";

const CE = "application/cloudevents+json";
const HOUR = 3600_000;
const DAY = 24 * HOUR;

let rx: Receiver;
let t = Date.now();
const at = () => new Date(t);
const advance = (ms: number) => {
  t += ms;
};

beforeAll(async () => {
  rx = await startReceiver();
  setClock(() => new Date(t));
});
afterEach(async () => {
  expect(rx.unverified).toEqual([]);
  // each case starts from a quiet database: earlier tenants' endpoints receive nothing more
  const db = await getDb();
  await db.execute(
    sql`update webhook_endpoints set status = 'disabled' where status = 'enabled'`,
  );
  await db.execute(
    sql`update webhook_deliveries set status = 'failed', next_attempt_at = null where status = 'pending'`,
  );
});
afterAll(async () => {
  await stopBoss();
  await rx.close();
});

async function deliverNow() {
  return deliverDueWebhooks(await getDb(), at());
}

async function endpoint(
  f: { apiKey: string },
  body: Record<string, unknown> = {},
) {
  const path = rx.newPath();
  const r = await api("POST", "/api/v1/webhooks", {
    token: f.apiKey,
    body: {
      url: rx.url(path),
      eventTypes: ["incident.opened", "incident.updated", "incident.resolved"],
      ...body,
    },
  });
  expect(r.status).toBe(201);
  rx.setSecrets(path, [r.body.secret]);
  return { id: r.body.id as string, secret: r.body.secret as string, path };
}

async function sendEvent(
  f: { hostToken: string; hostId: string },
  vmId: string,
  extra: Record<string, unknown> = {},
) {
  const r = await api("POST", "/api/v1/events", {
    token: f.hostToken,
    body: memoryEvent({
      hostId: f.hostId,
      vmId,
      time: at().toISOString(),
      ...extra,
    }),
    contentType: CE,
  });
  expect(r.status).toBe(200);
  return r.body;
}

async function deliveries(f: { apiKey: string }, id: string) {
  const r = await api("GET", `/api/v1/webhooks/${id}/deliveries?limit=500`, {
    token: f.apiKey,
  });
  expect(r.status).toBe(200);
  return r.body.data as any[];
}

describe("webhook subscriptions (REST)", () => {
  it("creates, lists, patches and deletes; the secret is answered only on create", async () => {
    const f = await fleet();
    const c = await api("POST", "/api/v1/webhooks", {
      token: f.apiKey,
      body: {
        url: rx.url("/x"),
        eventTypes: ["incident.opened"],
        projectIds: [f.projectId],
        description: "pager",
      },
    });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({
      url: rx.url("/x"),
      eventTypes: ["incident.opened"],
      projectIds: [f.projectId],
      description: "pager",
      status: "enabled",
    });
    expect(c.body.id).toMatch(/^whe_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(c.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(c.body).not.toHaveProperty("disabledReason");

    const list = await api("GET", "/api/v1/webhooks", { token: f.apiKey });
    expect(list.status).toBe(200);
    expect(list.body.nextCursor).toBeNull();
    expect(list.body.data).toHaveLength(1);
    expect(list.body.data[0]).not.toHaveProperty("secret");
    expect(JSON.stringify(list.body)).not.toContain(c.body.secret);

    const p = await api("PATCH", `/api/v1/webhooks/${c.body.id}`, {
      token: f.apiKey,
      body: {
        eventTypes: ["incident.opened", "memory_error.detected"],
        projectIds: null,
        description: null,
      },
    });
    expect(p.status).toBe(200);
    expect(p.body.eventTypes).toEqual([
      "incident.opened",
      "memory_error.detected",
    ]);
    expect(p.body).not.toHaveProperty("projectIds");
    expect(p.body).not.toHaveProperty("description");
    expect(p.body).not.toHaveProperty("secret");

    const off = await api("PATCH", `/api/v1/webhooks/${c.body.id}`, {
      token: f.apiKey,
      body: { status: "disabled" },
    });
    expect(off.body).toMatchObject({
      status: "disabled",
      disabledReason: expect.any(String),
    });
    const on = await api("PATCH", `/api/v1/webhooks/${c.body.id}`, {
      token: f.apiKey,
      body: { status: "enabled" },
    });
    expect(on.body.status).toBe("enabled");
    expect(on.body).not.toHaveProperty("disabledReason");

    expect(
      (
        await api("DELETE", `/api/v1/webhooks/${c.body.id}`, {
          token: f.apiKey,
        })
      ).status,
    ).toBe(204);
    expect(
      (
        await api("DELETE", `/api/v1/webhooks/${c.body.id}`, {
          token: f.apiKey,
        })
      ).status,
    ).toBe(404);
    expect(
      (await api("GET", "/api/v1/webhooks", { token: f.apiKey })).body.data,
    ).toEqual([]);

    const trail = await rawRows<{ action: string; actor: string }>(
      await getDb(),
      sql`select action, actor from audit_log where tenant_id = ${f.tenantId} and action like 'webhook.%' order by at, id`,
    );
    expect(trail.map((r) => r.action)).toEqual([
      "webhook.create",
      "webhook.update",
      "webhook.update",
      "webhook.update",
      "webhook.delete",
    ]);
    expect(trail.every((r) => /^api_key:key_/.test(r.actor))).toBe(true);
  });

  it("pages the list with a cursor", async () => {
    const f = await fleet();
    for (let i = 0; i < 3; i++) await endpoint(f);
    const a = await api("GET", "/api/v1/webhooks?limit=2", { token: f.apiKey });
    expect(a.body.data).toHaveLength(2);
    expect(a.body.nextCursor).toEqual(expect.any(String));
    const b = await api(
      "GET",
      `/api/v1/webhooks?limit=2&cursor=${a.body.nextCursor}`,
      { token: f.apiKey },
    );
    expect(b.body.data).toHaveLength(1);
    expect(b.body.nextCursor).toBeNull();
    expect(
      new Set([...a.body.data, ...b.body.data].map((e: any) => e.id)).size,
    ).toBe(3);
  });

  it("rejects bad input with 4xx and clear errors", async () => {
    const f = await fleet();
    const other = await fleet();
    const post = (body: unknown) =>
      api("POST", "/api/v1/webhooks", { token: f.apiKey, body });
    const cases: [unknown, string][] = [
      [{ url: "not a url", eventTypes: ["incident.opened"] }, "url"],
      [{ url: "ftp://example.com/x", eventTypes: ["incident.opened"] }, "url"],
      [
        { url: "https://u:p@example.com/x", eventTypes: ["incident.opened"] },
        "url",
      ],
      [{ url: "https://example.com/x", eventTypes: [] }, "eventTypes"],
      [
        { url: "https://example.com/x", eventTypes: ["incident.exploded"] },
        "eventTypes.0",
      ],
      [{ url: "https://example.com/x" }, "eventTypes"],
      [
        {
          url: "https://example.com/x",
          eventTypes: ["incident.opened"],
          secret: "whsec_mine",
        },
        "",
      ],
      [
        {
          url: "https://example.com/x",
          eventTypes: ["incident.opened"],
          projectIds: [],
        },
        "projectIds",
      ],
      [
        {
          url: "https://example.com/x",
          eventTypes: ["incident.opened"],
          projectIds: [other.projectId],
        },
        "projectIds.0",
      ],
      [
        {
          url: "https://example.com/x",
          eventTypes: ["incident.opened"],
          projectIds: ["no-such-project"],
        },
        "projectIds.0",
      ],
    ];
    for (const [body, path] of cases) {
      const r = await post(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("invalid_request");
      expect(r.body.error.message.length).toBeGreaterThan(5);
      if (path)
        expect(r.body.error.details.map((d: any) => d.path)).toContain(path);
    }
    const junk = await api("POST", "/api/v1/webhooks", {
      token: f.apiKey,
      rawBody: "{oops",
      contentType: "application/json",
    });
    expect(junk.status).toBe(400);
    const media = await api("POST", "/api/v1/webhooks", {
      token: f.apiKey,
      rawBody: "url=x",
      contentType: "application/x-www-form-urlencoded",
    });
    expect(media.status).toBe(415);
    expect((await api("GET", "/api/v1/webhooks")).status).toBe(401);
    expect(
      (await api("GET", "/api/v1/webhooks", { token: f.hostToken })).status,
    ).toBe(403);
    expect(
      (await api("GET", "/api/v1/webhooks?limit=0", { token: f.apiKey }))
        .status,
    ).toBe(400);
    expect(
      (await api("GET", "/api/v1/webhooks?cursor=zzz", { token: f.apiKey }))
        .status,
    ).toBe(400);

    const ep = await endpoint(f);
    const bad = await api("PATCH", `/api/v1/webhooks/${ep.id}`, {
      token: f.apiKey,
      body: { status: "paused" },
    });
    expect(bad.status).toBe(400);
    const badRecover = await api("POST", `/api/v1/webhooks/${ep.id}/recover`, {
      token: f.apiKey,
      body: { since: "yesterday" },
    });
    expect(badRecover.status).toBe(400);
    expect(badRecover.body.error.details[0].path).toBe("since");
    const badStatus = await api(
      "GET",
      `/api/v1/webhooks/${ep.id}/deliveries?status=lost`,
      { token: f.apiKey },
    );
    expect(badStatus.status).toBe(400);
  });

  it("refuses plain http and private targets unless WEBHOOK_ALLOW_PRIVATE=1", async () => {
    const f = await fleet();
    process.env.WEBHOOK_ALLOW_PRIVATE = "0";
    resetEnvCache();
    try {
      const cases = [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest",
      ];
      for (const url of cases) {
        const r = await api("POST", "/api/v1/webhooks", {
          token: f.apiKey,
          body: { url, eventTypes: ["incident.opened"] },
        });
        expect(r.status, url).toBe(400);
        expect(r.body.error.message).toMatch(/^Invalid webhook URL: URL must/);
        expect(r.body.error.details).toEqual([
          { path: "url", message: expect.any(String) },
        ]);
      }
      const ok = await api("POST", "/api/v1/webhooks", {
        token: f.apiKey,
        body: {
          url: "https://hooks.example.com/pw",
          eventTypes: ["incident.opened"],
        },
      });
      expect(ok.status).toBe(201);
      const patch = await api("PATCH", `/api/v1/webhooks/${ok.body.id}`, {
        token: f.apiKey,
        body: { url: "https://192.168.1.1/x" },
      });
      expect(patch.status).toBe(400);
    } finally {
      process.env.WEBHOOK_ALLOW_PRIVATE = "1";
      resetEnvCache();
    }
  });

  it("isolates tenants on every webhook route", async () => {
    const a = await fleet();
    const b = await fleet();
    const ep = await endpoint(a);
    const t = await api("POST", `/api/v1/webhooks/${ep.id}/test`, {
      token: a.apiKey,
    });
    await deliverNow();
    const [d] = await deliveries(a, ep.id);
    const calls: [string, string, unknown?][] = [
      ["PATCH", `/api/v1/webhooks/${ep.id}`, { description: "mine now" }],
      ["POST", `/api/v1/webhooks/${ep.id}/test`],
      ["POST", `/api/v1/webhooks/${ep.id}/rotate-secret`],
      ["GET", `/api/v1/webhooks/${ep.id}/deliveries`],
      ["POST", `/api/v1/webhooks/${ep.id}/deliveries/${d.id}/retry`],
      [
        "POST",
        `/api/v1/webhooks/${ep.id}/recover`,
        { since: at().toISOString() },
      ],
      ["DELETE", `/api/v1/webhooks/${ep.id}`],
    ];
    for (const [method, path, body] of calls) {
      const r = await api(method, path, { token: b.apiKey, body });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect(JSON.stringify(r.body)).not.toContain(a.tenantId);
    }
    // b's own endpoint cannot reach a's delivery either
    const mine = await endpoint(b);
    expect(
      (
        await api(
          "POST",
          `/api/v1/webhooks/${mine.id}/deliveries/${d.id}/retry`,
          { token: b.apiKey },
        )
      ).status,
    ).toBe(404);
    expect(
      (await api("GET", "/api/v1/webhooks", { token: b.apiKey })).body.data.map(
        (e: any) => e.id,
      ),
    ).toEqual([mine.id]);
    // and nothing changed for a
    expect(
      (await api("GET", "/api/v1/webhooks", { token: a.apiKey })).body.data[0],
    ).toMatchObject({ id: ep.id, status: "enabled" });
    expect(rx.on(ep.path).map((m) => m.id)).toEqual([t.body.messageId]);
  });
});

describe("delivery", () => {
  it("sends a signed webhook.test and logs the attempt", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    const r = await api("POST", `/api/v1/webhooks/${ep.id}/test`, {
      token: f.apiKey,
    });
    expect(r.status).toBe(202);
    expect(r.body.messageId).toMatch(/^msg_/);
    expect(await deliverNow()).toBe(1);
    const [m] = rx.on(ep.path);
    expect(m!.id).toBe(r.body.messageId);
    expect(m!.payload).toEqual({
      type: "webhook.test",
      timestamp: expect.stringMatching(/Z$/),
      data: expect.objectContaining({ endpointId: ep.id }),
    });
    expect(Object.keys(m!.payload)).toEqual(["type", "timestamp", "data"]);
    expect(m!.verifiedWith).toEqual([ep.secret]);
    const [d] = await deliveries(f, ep.id);
    expect(d).toMatchObject({
      messageId: r.body.messageId,
      type: "webhook.test",
      status: "succeeded",
      nextAttemptAt: null,
    });
    expect(d.id).toMatch(/^dlv_/);
    expect(d.attempts).toEqual([
      {
        at: expect.stringMatching(/Z$/),
        statusCode: 200,
        latencyMs: expect.any(Number),
        responseExcerpt: "ok",
      },
    ]);
  });

  it("retries with backoff until the receiver recovers, with the same webhook-id, honouring Retry-After", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    rx.plan(ep.path, [
      { status: 500, body: "boom" },
      { status: 503, headers: { "retry-after": "3600" } },
      { status: 302, headers: { location: rx.url("/elsewhere") } },
      { status: 200 },
    ]);
    await sendEvent(f, f.vmId);
    expect(await deliverNow()).toBe(1);
    let [d] = await deliveries(f, ep.id);
    expect(d.status).toBe("pending");
    expect(d.attempts[0]).toMatchObject({
      statusCode: 500,
      error: "HTTP 500",
      responseExcerpt: "boom",
    });
    // nothing is due before the backoff has passed
    advance(2_000);
    expect(await deliverNow()).toBe(0);
    advance(10_000);
    expect(await deliverNow()).toBe(1);
    [d] = await deliveries(f, ep.id);
    expect(d.attempts[1].statusCode).toBe(503);
    expect(new Date(d.nextAttemptAt).getTime()).toBeGreaterThanOrEqual(
      t + 3600_000,
    );
    advance(3_000_000);
    expect(await deliverNow()).toBe(0);
    advance(700_000);
    expect(await deliverNow()).toBe(1);
    advance(HOUR);
    expect(await deliverNow()).toBe(1);
    [d] = await deliveries(f, ep.id);
    expect(d.status).toBe("succeeded");
    expect(d.attempts.map((a: any) => a.statusCode)).toEqual([
      500, 503, 302, 200,
    ]);
    const got = rx.on(ep.path);
    expect(got).toHaveLength(4);
    expect(new Set(got.map((m) => m.id))).toEqual(new Set([d.messageId]));
    expect(got.every((m) => m.payload.type === "incident.opened")).toBe(true);
    expect(rx.received.some((m) => m.path === "/elsewhere")).toBe(false);
    // the endpoint recovered: its failure clock is cleared
    const [row] = await (
      await getDb()
    )
      .select()
      .from(webhookEndpoints)
      .where(eq(webhookEndpoints.id, ep.id));
    expect(row!.failingSince).toBeNull();
  });

  it("gives up after the retry schedule (at least 8 attempts over at least 24 h)", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    rx.plan(
      ep.path,
      Array.from({ length: 20 }, () => ({ status: 500 })),
    );
    const start = t;
    await api("POST", `/api/v1/webhooks/${ep.id}/test`, { token: f.apiKey });
    let [d] = await deliveries(f, ep.id);
    for (let i = 0; i < 20 && d.status === "pending"; i++) {
      t = Math.max(t, new Date(d.nextAttemptAt).getTime());
      await deliverNow();
      [d] = await deliveries(f, ep.id);
    }
    expect(d.status).toBe("failed");
    expect(d.attempts.length).toBeGreaterThanOrEqual(8);
    const last = new Date(d.attempts[d.attempts.length - 1].at).getTime();
    expect(last - start).toBeGreaterThanOrEqual(DAY);
  });

  it("410 Gone disables the endpoint at once and fails its pending deliveries", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    rx.plan(ep.path, [{ status: 410 }]);
    await api("POST", `/api/v1/webhooks/${ep.id}/test`, { token: f.apiKey });
    await api("POST", `/api/v1/webhooks/${ep.id}/test`, { token: f.apiKey });
    // one claim at a time so the second is still pending when the first answers 410
    const db = await getDb();
    const { deliverClaimed } = await import("@/server/notify/webhook-worker");
    const first = (await deliveries(f, ep.id)).map((d) => d.id).sort()[0]!;
    await deliverClaimed(
      db,
      await claimDueDeliveries(db, at(), { ids: [first] }),
    );
    const list = await api("GET", "/api/v1/webhooks", { token: f.apiKey });
    expect(list.body.data[0]).toMatchObject({
      id: ep.id,
      status: "disabled",
      disabledReason: "it answered 410 Gone",
    });
    const ds = await deliveries(f, ep.id);
    expect(ds.map((d) => d.status).sort()).toEqual(["failed", "failed"]);
    expect(await deliverNow()).toBe(0);
    expect(rx.on(ep.path)).toHaveLength(1);
    const test = await api("POST", `/api/v1/webhooks/${ep.id}/test`, {
      token: f.apiKey,
    });
    expect(test.status).toBe(409);
    expect(test.body.error.code).toBe("conflict");
    await sendEvent(f, f.vmId);
    expect(await deliverNow()).toBe(0);
  });

  it("disables an endpoint failing for 5 days and emails the tenant's owners", async () => {
    const f = await fleet();
    await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
      token: f.op,
      body: { email: "Owner@Example.com", role: "owner" },
    });
    await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
      token: f.op,
      body: { email: "viewer@example.com", role: "viewer" },
    });
    const ep = await endpoint(f);
    rx.plan(
      ep.path,
      Array.from({ length: 100 }, () => ({ status: 502 })),
    );
    const start = t;
    let status = "enabled";
    for (let day = 0; day <= 6 && status === "enabled"; day++) {
      await api("POST", `/api/v1/webhooks/${ep.id}/test`, { token: f.apiKey });
      for (let h = 0; h < 24; h += 6) {
        await deliverNow();
        advance(6 * HOUR);
      }
      status = (await api("GET", "/api/v1/webhooks", { token: f.apiKey })).body
        .data[0].status;
    }
    const list = await api("GET", "/api/v1/webhooks", { token: f.apiKey });
    expect(list.body.data[0]).toMatchObject({
      status: "disabled",
      disabledReason: expect.stringMatching(
        /^every delivery failed for 5 days/,
      ),
    });
    expect(t - start).toBeGreaterThanOrEqual(5 * DAY);
    expect(t - start).toBeLessThanOrEqual(6 * DAY + HOUR);
    const mail = await (
      await getDb()
    )
      .select()
      .from(emails)
      .where(
        and(
          eq(emails.tenantId, f.tenantId),
          eq(emails.kind, "endpoint_disabled"),
        ),
      );
    expect(mail.map((m) => m.to)).toEqual([["owner@example.com"]]);
    expect(mail[0]!.status).toBe("outbox");
    expect(mail[0]!.text).toContain(rx.url(ep.path));
    const trail = await rawRows<{ actor: string }>(
      await getDb(),
      sql`select actor from audit_log where tenant_id = ${f.tenantId} and action = 'webhook.disable'`,
    );
    expect(trail).toEqual([{ actor: "system" }]);
  });

  it("emails the contact emails when the tenant has no owner", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    rx.plan(ep.path, [{ status: 410 }]);
    await api("POST", `/api/v1/webhooks/${ep.id}/test`, { token: f.apiKey });
    await deliverNow();
    const mail = await (
      await getDb()
    )
      .select()
      .from(emails)
      .where(
        and(
          eq(emails.tenantId, f.tenantId),
          eq(emails.kind, "endpoint_disabled"),
        ),
      );
    expect(mail.map((m) => m.to)).toEqual([
      [`ops@${f.tenantId}.example`.toLowerCase()],
    ]);
  });

  it("signs with both secrets during a rotation's 24 h overlap, then only the new one", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    const rot = await api("POST", `/api/v1/webhooks/${ep.id}/rotate-secret`, {
      token: f.apiKey,
    });
    expect(rot.status).toBe(200);
    expect(rot.body.secret).toMatch(/^whsec_/);
    expect(rot.body.secret).not.toBe(ep.secret);
    expect(new Date(rot.body.previousSecretExpiresAt).getTime()).toBe(t + DAY);
    rx.setSecrets(ep.path, [ep.secret, rot.body.secret]);
    await api("POST", `/api/v1/webhooks/${ep.id}/test`, { token: f.apiKey });
    await deliverNow();
    const [during] = rx.on(ep.path);
    expect(during!.verifiedWith.sort()).toEqual(
      [ep.secret, rot.body.secret].sort(),
    );
    expect(during!.signature.split(" ")).toHaveLength(2);
    advance(DAY + 1000);
    await api("POST", `/api/v1/webhooks/${ep.id}/test`, { token: f.apiKey });
    await deliverNow();
    const after = rx.on(ep.path)[1]!;
    expect(after.verifiedWith).toEqual([rot.body.secret]);
    expect(after.signature.split(" ")).toHaveLength(1);
    expect(
      (await api("GET", "/api/v1/webhooks", { token: f.apiKey })).body.data[0],
    ).not.toHaveProperty("secret");
  });

  it("replays a delivery with the same webhook-id and a fresh timestamp", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    await api("POST", `/api/v1/webhooks/${ep.id}/test`, { token: f.apiKey });
    await deliverNow();
    const [d] = await deliveries(f, ep.id);
    await new Promise((r) => setTimeout(r, 1100)); // webhook-timestamp has a resolution of one second
    const r = await api(
      "POST",
      `/api/v1/webhooks/${ep.id}/deliveries/${d.id}/retry`,
      { token: f.apiKey },
    );
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ deliveryId: d.id, messageId: d.messageId });
    expect(await deliverNow()).toBe(1);
    const got = rx.on(ep.path);
    expect(got.map((m) => m.id)).toEqual([d.messageId, d.messageId]);
    expect(got[1]!.timestamp).not.toBe(got[0]!.timestamp);
    expect(got[1]!.body).toBe(got[0]!.body);
    const [again] = await deliveries(f, ep.id);
    expect(again.attempts).toHaveLength(2);
    expect(
      (
        await api(
          "POST",
          `/api/v1/webhooks/${ep.id}/deliveries/dlv_nope/retry`,
          { token: f.apiKey },
        )
      ).status,
    ).toBe(404);
  });

  it("recovers every failed message since a time, at most 14 days back", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    const since = at().toISOString();
    for (let i = 0; i < 3; i++)
      await api("POST", `/api/v1/webhooks/${ep.id}/test`, { token: f.apiKey });
    // disabling fails the pending deliveries; nothing was sent
    await api("PATCH", `/api/v1/webhooks/${ep.id}`, {
      token: f.apiKey,
      body: { status: "disabled" },
    });
    expect(await deliverNow()).toBe(0);
    const blocked = await api("POST", `/api/v1/webhooks/${ep.id}/recover`, {
      token: f.apiKey,
      body: { since },
    });
    expect(blocked.status).toBe(409);
    await api("PATCH", `/api/v1/webhooks/${ep.id}`, {
      token: f.apiKey,
      body: { status: "enabled" },
    });
    const old = await api("POST", `/api/v1/webhooks/${ep.id}/recover`, {
      token: f.apiKey,
      body: { since: new Date(t - 15 * DAY).toISOString() },
    });
    expect(old.status).toBe(400);
    expect(old.body.error.message).toMatch(/14 days/);
    const later = await api("POST", `/api/v1/webhooks/${ep.id}/recover`, {
      token: f.apiKey,
      body: { since: new Date(t + 1000).toISOString() },
    });
    expect(later.body).toEqual({ count: 0 });
    const r = await api("POST", `/api/v1/webhooks/${ep.id}/recover`, {
      token: f.apiKey,
      body: { since: since.replace("Z", "+00:00") },
    });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ count: 3 });
    expect(await deliverNow()).toBe(3);
    const ds = await deliveries(f, ep.id);
    expect(ds.every((d) => d.status === "succeeded")).toBe(true);
    expect(new Set(rx.on(ep.path).map((m) => m.id))).toEqual(
      new Set(ds.map((d) => d.messageId)),
    );
  });

  it("loses nothing when a worker dies mid-delivery: the lease runs out and the same message goes again", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    const test = await api("POST", `/api/v1/webhooks/${ep.id}/test`, {
      token: f.apiKey,
    });
    const db = await getDb();
    // a worker claims the delivery, then is killed before it sends or records anything
    const claimed = await claimDueDeliveries(db, at());
    expect(claimed.map((c) => c.messageId)).toEqual([test.body.messageId]);
    expect(await deliverNow()).toBe(0);
    advance(CLAIM_LEASE_MS - 1000);
    expect(await deliverNow()).toBe(0);
    advance(2000);
    expect(await deliverNow()).toBe(1);
    expect(rx.on(ep.path).map((m) => m.id)).toEqual([test.body.messageId]);
    const [d] = await deliveries(f, ep.id);
    expect(d.status).toBe("succeeded");
  });

  it("resumes pending deliveries after a restart (nothing but the rows survives)", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    await sendEvent(f, f.vmId);
    // the job is gone with the old process; the rows are not
    await (
      await getDb()
    )
      .execute(sql`delete from pgboss.job where name = 'webhook'`)
      .catch(() => {});
    expect(await deliverNow()).toBe(1);
    expect(rx.on(ep.path).map((m) => m.payload.type)).toEqual([
      "incident.opened",
    ]);
  });
});

describe("what goes to whom", () => {
  it("sends memory_error.detected only to endpoints that opted in, and honours project filters", async () => {
    const f = await fleet({ vms: 2 });
    const other = uid("p");
    await api("PUT", `/api/v1/admin/projects/${other}`, {
      token: f.op,
      body: { tenantId: f.tenantId, name: "Other" },
    });
    const all = await endpoint(f, {
      eventTypes: ["incident.opened", "memory_error.detected"],
    });
    const lifecycle = await endpoint(f);
    const elsewhere = await endpoint(f, {
      eventTypes: ["incident.opened", "memory_error.detected"],
      projectIds: [other],
    });
    const here = await endpoint(f, {
      eventTypes: ["memory_error.detected"],
      projectIds: [f.projectId, other],
    });
    await sendEvent(f, f.vmId);
    await sendEvent(f, f.vmId, { gpa: "0x0000000200000000" });
    await deliverNow();
    const types = (p: string) =>
      rx
        .on(p)
        .map((m) => m.payload.type)
        .sort();
    expect(types(all.path)).toEqual([
      "incident.opened",
      "memory_error.detected",
      "memory_error.detected",
    ]);
    expect(types(lifecycle.path)).toEqual(["incident.opened"]);
    expect(types(elsewhere.path)).toEqual([]);
    expect(types(here.path)).toEqual([
      "memory_error.detected",
      "memory_error.detected",
    ]);
    const entry = rx
      .on(all.path)
      .find((m) => m.payload.type === "memory_error.detected")!.payload.data;
    expect(entry).toMatchObject({
      severity: "CRITICAL",
      logName: `projects/${f.projectId}/logs/memory_errors`,
      resource: { labels: { vmId: f.vmId } },
    });
    expect(entry.insertId).toMatch(/^log_/);
    expect(JSON.stringify(entry)).not.toContain(f.hostId);
    const opened = rx
      .on(all.path)
      .find((m) => m.payload.type === "incident.opened")!.payload.data;
    expect(opened).toMatchObject({
      status: "open",
      vmId: f.vmId,
      vmName: "web-1",
      projectId: f.projectId,
      errorCount: 1,
      evacuation: null,
    });
    expect(opened.id).toMatch(/^inc_/);
    expect(JSON.stringify(opened)).not.toContain(f.hostId);
    // the same message id for the same log entry across endpoints is not required, but one message per entry per tenant is
    const ids = rx
      .on(all.path)
      .filter((m) => m.payload.type === "memory_error.detected")
      .map((m) => m.id);
    expect(
      rx
        .on(here.path)
        .map((m) => m.id)
        .sort(),
    ).toEqual(ids.sort());
  });

  it("coalesces incident updates over coalesceSeconds and sends incident.resolved", async () => {
    const f = await fleet();
    const ep = await endpoint(f);
    await sendEvent(f, f.vmId);
    await deliverNow();
    for (let i = 0; i < 5; i++) {
      advance(10_000);
      // the same page again and again: no evacuation, so the quiet period can resolve it
      await sendEvent(f, f.vmId);
    }
    const db = await getDb();
    const { runMaintenance } = await import("@/server/maintenance");
    await runMaintenance(db, at());
    expect(rx.on(ep.path).map((m) => m.payload.type)).toEqual([
      "incident.opened",
    ]);
    const [inc] = await db
      .select()
      .from(incidents)
      .where(eq(incidents.vmId, f.vmId));
    expect(inc!.notifyDueAt!.getTime()).toBe(
      inc!.lastNotifiedAt!.getTime() + 300_000,
    );
    advance(300_000);
    await runMaintenance(db, at());
    const updates = rx
      .on(ep.path)
      .filter((m) => m.payload.type === "incident.updated");
    expect(updates).toHaveLength(1);
    expect(updates[0]!.payload.data).toMatchObject({
      id: inc!.id,
      errorCount: 6,
    });
    // quiet period passes: one incident.resolved
    advance(2 * DAY);
    await runMaintenance(db, at());
    const resolved = rx
      .on(ep.path)
      .filter((m) => m.payload.type === "incident.resolved");
    expect(resolved).toHaveLength(1);
    expect(resolved[0]!.payload.data).toMatchObject({
      id: inc!.id,
      status: "resolved",
      resolvedAt: expect.stringMatching(/Z$/),
    });
  });

  it("tells tenants and the control plane about evacuations", async () => {
    const f = await fleet();
    const ep = await endpoint(f, {
      eventTypes: [
        "vm.evacuation_scheduled",
        "vm.evacuation_completed",
        "incident.opened",
        "incident.updated",
      ],
    });
    const { path: cbPath, secret: cbSecret } = await pointCallbackAt(rx, f.op);
    await sendEvent(f, f.vmId);
    await deliverNow();
    const db = await getDb();
    const [inc] = await db
      .select()
      .from(incidents)
      .where(eq(incidents.vmId, f.vmId));
    const evac: typeof evacuations.$inferSelect = {
      id: newId("evac"),
      tenantId: f.tenantId,
      projectId: f.projectId,
      vmId: f.vmId,
      vmIncarnation: (
        await db
          .select({ i: vms.incarnation })
          .from(vms)
          .where(eq(vms.id, f.vmId))
      )[0]!.i,
      incidentId: inc!.id,
      hostId: f.hostId,
      reason: "vm_pages_threshold",
      distinctPages: 4,
      status: "scheduled",
      requestedBy: "policy",
      requestedAt: at(),
      scheduledFor: new Date(t + HOUR),
      completedAt: null,
      cancelledAt: null,
      deadline: new Date(Date.now() + 86400_000),
      startedAt: null,
      rescheduleCount: 0,
    };
    await db.transaction(async (tx) => {
      await tx.insert(evacuations).values(evac);
      await enqueueEvacuationNotifications(tx, {
        evacuation: evac,
        kind: "scheduled",
        at: at(),
      });
    });
    await deliverNow();
    const sched = rx
      .on(ep.path)
      .find((m) => m.payload.type === "vm.evacuation_scheduled")!;
    expect(sched.payload.data).toEqual({
      evacuationId: evac.id,
      vm: { id: f.vmId, name: "web-1", projectId: f.projectId },
      incidentId: inc!.id,
      scheduledFor: new Date(t + HOUR).toISOString(),
      reason: "vm_pages_threshold",
    });
    const [req] = rx.on(cbPath);
    expect(req!.payload.type).toBe("vm.evacuation_requested");
    expect(req!.payload.data).toEqual({
      evacuationId: evac.id,
      vmId: f.vmId,
      projectId: f.projectId,
      tenantId: f.tenantId,
      hostId: f.hostId,
      reason: "vm_pages_threshold",
      distinctPages: 4,
      requestedAt: evac.requestedAt.toISOString(),
    });
    expect(req!.verifiedWith).toEqual([cbSecret]);
    // the incident update is coalesced, then carries the evacuation
    advance(300_000);
    const { runMaintenance } = await import("@/server/maintenance");
    await runMaintenance(db, at());
    const upd = rx
      .on(ep.path)
      .filter((m) => m.payload.type === "incident.updated");
    expect(upd).toHaveLength(1);
    expect(upd[0]!.payload.data.evacuation).toMatchObject({
      id: evac.id,
      status: "scheduled",
    });
  });

  it("announces an incident opened together with its evacuation once, in order", async () => {
    const f = await fleet();
    const ep = await endpoint(f, {
      eventTypes: [
        "vm.evacuation_scheduled",
        "incident.opened",
        "incident.updated",
      ],
    });
    // consumed in the guest kernel: the policy evacuates in the transaction that opens the incident
    await sendEvent(f, f.vmId, { guestMode: "kernel" });
    await deliverNow();
    const got = rx.on(ep.path).map((m) => m.payload.type);
    expect(got.filter((x) => x === "incident.opened")).toHaveLength(1);
    expect(got).not.toContain("incident.updated");
    const opened = rx
      .on(ep.path)
      .find((m) => m.payload.type === "incident.opened")!.payload.data;
    expect(got).toContain("vm.evacuation_scheduled");
    expect(opened.evacuation).toMatchObject({ status: "scheduled" });
    advance(300_000);
    const { runMaintenance } = await import("@/server/maintenance");
    await runMaintenance(await getDb(), at());
    // the opening message already told the evacuation: nothing is pending after it
    expect(
      rx.on(ep.path).filter((m) => m.payload.type === "incident.updated"),
    ).toHaveLength(0);
  });

  it("keeps an evacuation request until a callback URL is configured", async () => {
    const f = await fleet();
    const db = await getDb();
    await db.execute(sql`delete from app_settings where key = 'callback'`);
    const evac: typeof evacuations.$inferSelect = {
      id: newId("evac"),
      tenantId: f.tenantId,
      projectId: f.projectId,
      vmId: f.vmId,
      vmIncarnation: (
        await db
          .select({ i: vms.incarnation })
          .from(vms)
          .where(eq(vms.id, f.vmId))
      )[0]!.i,
      incidentId: null,
      hostId: f.hostId,
      reason: "manual",
      distinctPages: 0,
      status: "scheduled",
      requestedBy: "operator",
      requestedAt: at(),
      scheduledFor: at(),
      completedAt: null,
      cancelledAt: null,
      deadline: new Date(Date.now() + 86400_000),
      startedAt: null,
      rescheduleCount: 0,
    };
    await db.transaction((tx) =>
      enqueueEvacuationNotifications(tx, {
        evacuation: evac,
        kind: "scheduled",
        at: at(),
      }),
    );
    expect(await deliverNow()).toBe(1);
    const [pending] = await db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, "callback"))
      .orderBy(sql`created_at desc`)
      .limit(1);
    expect(pending!.status).toBe("pending");
    const { path: cbPath } = await pointCallbackAt(rx, f.op);
    advance(10_000);
    expect(await deliverNow()).toBeGreaterThanOrEqual(1);
    expect(rx.on(cbPath).map((m) => m.payload.data.evacuationId)).toContain(
      evac.id,
    );
  });
});

describe("workers", () => {
  it("delivers through the pg-boss fast path without a due-scan", async () => {
    setClock(undefined);
    try {
      const handle = await getDbHandle();
      await getBoss(handle);
      await startWorkers(handle);
      const f = await fleet();
      const ep = await endpoint(f, {
        eventTypes: ["incident.opened", "memory_error.detected"],
      });
      await sendEvent(f, f.vmId, { time: new Date().toISOString() });
      await rx.waitFor(() => rx.on(ep.path).length >= 2, 15_000);
      expect(
        rx
          .on(ep.path)
          .map((m) => m.payload.type)
          .sort(),
      ).toEqual(["incident.opened", "memory_error.detected"]);
    } finally {
      await stopBoss();
      setClock(() => new Date(t));
    }
  });
});
