import { asc, eq, sql } from "drizzle-orm";
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
} from "vitest";
import { getDb, getDbHandle } from "@/db";
import { emails } from "@/db/schema";
import { setClock } from "@/server/clock";
import { resetEnvCache } from "@/server/env";
import { getBoss, startWorkers, stopBoss } from "@/server/jobs/boss";
import "@/server/jobs/workers";
import { runMaintenance } from "@/server/maintenance";
import { sendDueEmails, setEmailPacing } from "@/server/notify/email-send";
import { queueEmail } from "@/server/notify/email-queue";
import { api, fleet } from "../helpers/api";
import { memoryEvent } from "../helpers/events";
import { startFakeResend } from "../helpers/notify-fakes";
import type { FakeResend } from "../helpers/notify-fakes";

const CE = "application/cloudevents+json";
const HOUR = 3600_000;

let resend: FakeResend;
let t = Date.now();
const at = () => new Date(t);

function setKey(key: string | undefined) {
  if (key) process.env.RESEND_API_KEY = key;
  else delete process.env.RESEND_API_KEY;
  resetEnvCache();
}

beforeAll(async () => {
  resend = await startFakeResend();
  process.env.RESEND_BASE_URL = resend.base;
  setKey("re_test_key");
  setClock(() => new Date(t));
  // on PGlite pg-boss must be running before a transaction queues a job
  await getBoss(await getDbHandle());
});
beforeEach(() => {
  setEmailPacing({ requestsPerSecond: 1000 });
  resend.reset();
});
afterEach(async () => {
  await (
    await getDb()
  ).execute(sql`update emails set status = 'failed' where status = 'queued'`);
});
afterAll(async () => {
  await stopBoss();
  await resend.close();
  delete process.env.RESEND_BASE_URL;
  setKey(undefined);
});

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
  expect(r.body.accepted).toBe(1);
}

async function mailOf(tenantId: string) {
  return (await getDb())
    .select()
    .from(emails)
    .where(eq(emails.tenantId, tenantId))
    .orderBy(asc(emails.createdAt), asc(emails.id));
}

const send = async () => sendDueEmails(await getDb(), at());

describe("incident email through Resend", () => {
  it("renders at enqueue and sends the stored bytes with the idempotency key", async () => {
    const f = await fleet();
    await sendEvent(f, f.vmId);
    const [row] = await mailOf(f.tenantId);
    expect(row).toMatchObject({
      kind: "incident_opened",
      status: "queued",
      to: [`ops@${f.tenantId}.example`.toLowerCase()],
    });
    expect(row!.subject).toContain("web-1");
    expect(await send()).toBe(1);
    expect(resend.requests).toHaveLength(1);
    const req = resend.requests[0]!;
    expect(req.path).toBe("/emails");
    expect(req.auth).toBe("Bearer re_test_key");
    expect(req.idempotencyKey).toBe(row!.idempotencyKey);
    expect(req.body).toEqual({
      from: "Poisonwatch <alerts@localhost>",
      to: row!.to,
      subject: row!.subject,
      html: row!.html,
      text: row!.text,
    });
    expect(req.body.text).toContain(row!.incidentId);
    expect(req.body.html).toContain("http://localhost:3000/incidents/");
    const [sent] = await mailOf(f.tenantId);
    expect(sent).toMatchObject({
      status: "sent",
      providerId: resend.delivered[0]!.id,
      attempts: 1,
      lastError: null,
    });
    expect(await send()).toBe(0);
  });

  it("sends several due emails in one batch call, retried whole under one key", async () => {
    const f = await fleet();
    const put = await api("PUT", "/api/v1/notification-settings", {
      token: f.apiKey,
      body: { emails: ["a@example.com", "B@example.com", "c@example.com"] },
    });
    expect(put.status).toBe(200);
    expect(put.body.emails).toEqual([
      "a@example.com",
      "b@example.com",
      "c@example.com",
    ]);
    await sendEvent(f, f.vmId);
    resend.plan([{ status: 500 }]);
    expect(await send()).toBe(0);
    t += 10 * 60_000;
    expect(await send()).toBe(3);
    expect(resend.requests.map((r) => r.path)).toEqual([
      "/emails/batch",
      "/emails/batch",
    ]);
    expect(resend.requests[0]!.idempotencyKey).toMatch(/^batch_/);
    expect(resend.requests[1]!.idempotencyKey).toBe(
      resend.requests[0]!.idempotencyKey,
    );
    expect(resend.requests[1]!.body.map((e: any) => e.to[0]).sort()).toEqual([
      "a@example.com",
      "b@example.com",
      "c@example.com",
    ]);
    const rows = await mailOf(f.tenantId);
    expect(rows.map((r) => r.status)).toEqual(["sent", "sent", "sent"]);
    expect(new Set(rows.map((r) => r.providerId)).size).toBe(3);
  });

  it("waits for retry-after on 429 and sends the same bytes under the same key", async () => {
    const f = await fleet();
    await sendEvent(f, f.vmId);
    resend.plan([
      {
        status: 429,
        headers: { "retry-after": "30" },
        body: JSON.stringify({
          statusCode: 429,
          name: "rate_limit_exceeded",
          message: "Too many requests",
        }),
      },
    ]);
    expect(await send()).toBe(0);
    let [row] = await mailOf(f.tenantId);
    expect(row!.status).toBe("queued");
    expect(row!.lastError).toMatch(/rate_limit_exceeded/);
    expect(row!.nextAttemptAt!.getTime()).toBeGreaterThanOrEqual(t + 30_000);
    t += 20_000;
    expect(await send()).toBe(0);
    expect(resend.requests).toHaveLength(1);
    t += 15_000;
    expect(await send()).toBe(1);
    expect(resend.requests).toHaveLength(2);
    expect(resend.requests[1]!.idempotencyKey).toBe(
      resend.requests[0]!.idempotencyKey,
    );
    expect(resend.requests[1]!.body).toEqual(resend.requests[0]!.body);
    [row] = await mailOf(f.tenantId);
    expect(row).toMatchObject({ status: "sent", attempts: 2 });
  });

  it("sends an email once when Resend took it but the answer was lost: the retry reuses the key", async () => {
    const f = await fleet();
    await sendEvent(f, f.vmId);
    resend.plan([{ status: 200, dropAfterAccept: true }]);
    expect(await send()).toBe(0);
    let [row] = await mailOf(f.tenantId);
    expect(row).toMatchObject({
      status: "queued",
      lastError: expect.stringMatching(/application_error/),
    });
    t += 60_000;
    expect(await send()).toBe(1);
    expect(resend.requests.map((r) => r.idempotencyKey)).toEqual([
      row!.idempotencyKey,
      row!.idempotencyKey,
    ]);
    expect(resend.delivered).toHaveLength(1);
    [row] = await mailOf(f.tenantId);
    expect(row).toMatchObject({
      status: "sent",
      providerId: resend.delivered[0]!.id,
    });
  });

  it("does not retry validation and auth errors", async () => {
    const f = await fleet();
    await sendEvent(f, f.vmId);
    resend.plan([
      {
        status: 422,
        body: JSON.stringify({
          statusCode: 422,
          name: "validation_error",
          message: "Invalid `to` field",
        }),
      },
    ]);
    expect(await send()).toBe(0);
    t += 24 * HOUR - 60_000;
    expect(await send()).toBe(0);
    expect(resend.requests).toHaveLength(1);
    const [row] = await mailOf(f.tenantId);
    expect(row).toMatchObject({ status: "failed", attempts: 1 });
    expect(row!.lastError).toContain("validation_error");

    const g = await fleet();
    await sendEvent(g, g.vmId);
    resend.plan([
      {
        status: 401,
        body: JSON.stringify({
          statusCode: 401,
          name: "invalid_api_key",
          message: "API key is invalid",
        }),
      },
    ]);
    await send();
    expect((await mailOf(g.tenantId))[0]).toMatchObject({ status: "failed" });
  });

  it("splits a batch refused for one bad email and sends the others alone", async () => {
    const f = await fleet();
    await api("PUT", "/api/v1/notification-settings", {
      token: f.apiKey,
      body: { emails: ["a@example.com", "b@example.com"] },
    });
    await sendEvent(f, f.vmId);
    resend.plan([
      {
        status: 422,
        body: JSON.stringify({
          statusCode: 422,
          name: "validation_error",
          message: "emails[1].to is invalid",
        }),
      },
      { status: 200 },
      {
        status: 422,
        body: JSON.stringify({
          statusCode: 422,
          name: "validation_error",
          message: "to is invalid",
        }),
      },
    ]);
    await send();
    expect(resend.requests.map((r) => r.path)).toEqual([
      "/emails/batch",
      "/emails",
      "/emails",
    ]);
    const rows = await mailOf(f.tenantId);
    expect(rows.map((r) => r.status).sort()).toEqual(["failed", "sent"]);
    // alone, each goes under its own key
    expect(
      resend.requests
        .slice(1)
        .map((r) => r.idempotencyKey)
        .sort(),
    ).toEqual(rows.map((r) => r.idempotencyKey).sort());
  });

  it("retries transient errors with backoff, never past 24 h", async () => {
    const f = await fleet();
    await sendEvent(f, f.vmId);
    const start = t;
    resend.plan(Array.from({ length: 40 }, () => ({ status: 503 })));
    for (let i = 0; i < 40; i++) {
      await send();
      t += 2 * HOUR;
    }
    const [row] = await mailOf(f.tenantId);
    expect(row!.status).toBe("failed");
    expect(row!.lastError).toMatch(/24 h/);
    expect(row!.attempts).toBeGreaterThanOrEqual(5);
    expect(new Set(resend.requests.map((r) => r.idempotencyKey))).toEqual(
      new Set([row!.idempotencyKey]),
    );
    expect(t - start).toBeGreaterThan(24 * HOUR);
  });

  it("marks an email failed, unsent, once it is more than 24 h old", async () => {
    const db = await getDb();
    const f = await fleet();
    await db.transaction((tx) =>
      queueEmail(tx, {
        tenantId: f.tenantId,
        to: ["late@example.com"],
        template: {
          kind: "sign_in_link",
          props: { url: "http://localhost:3000/x", expiresInMinutes: 15 },
        },
        at: at(),
      }),
    );
    t += 24 * HOUR + 1000;
    expect(await send()).toBe(0);
    expect(resend.requests).toHaveLength(0);
    const [row] = await mailOf(f.tenantId);
    expect(row).toMatchObject({
      status: "failed",
      lastError: expect.stringMatching(/24 h/),
    });
  });

  it("paces requests to Resend's rate", async () => {
    setEmailPacing({ requestsPerSecond: 5 });
    const db = await getDb();
    const f = await fleet();
    // emails queued at different times are separate requests (each alone is due once)
    for (let i = 0; i < 3; i++) {
      await db.transaction((tx) =>
        queueEmail(tx, {
          tenantId: f.tenantId,
          to: [`p${i}@example.com`],
          template: {
            kind: "sign_in_link",
            props: { url: "http://localhost:3000/x", expiresInMinutes: 15 },
          },
          at: at(),
        }),
      );
      await send();
    }
    expect(resend.requests).toHaveLength(3);
    // 5 requests/s: three requests span at least two 200 ms slots (less a little connection jitter)
    expect(
      resend.requests[2]!.at - resend.requests[0]!.at,
    ).toBeGreaterThanOrEqual(360);
  });

  it("keeps mail in the outbox without RESEND_API_KEY", async () => {
    setKey(undefined);
    try {
      const f = await fleet();
      await sendEvent(f, f.vmId);
      expect(await send()).toBe(0);
      const [row] = await mailOf(f.tenantId);
      expect(row).toMatchObject({ status: "outbox", kind: "incident_opened" });
      expect(resend.requests).toHaveLength(0);
    } finally {
      setKey("re_test_key");
    }
  });
});

describe("email worker", () => {
  it("sends through the pg-boss fast path without a due-scan", async () => {
    setClock(undefined);
    try {
      const handle = await getDbHandle();
      await startWorkers(handle);
      const f = await fleet();
      const r = await api("POST", "/api/v1/events", {
        token: f.hostToken,
        body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
        contentType: CE,
      });
      expect(r.body.accepted).toBe(1);
      const deadline = Date.now() + 15_000;
      while (!resend.delivered.length && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 50));
      expect(resend.delivered.map((d) => d.email.to)).toEqual([
        [`ops@${f.tenantId}.example`.toLowerCase()],
      ]);
      // the worker marks the row sent after Resend has answered: wait for that write too
      let [row] = await mailOf(f.tenantId);
      while (row?.status !== "sent" && Date.now() < deadline) {
        await new Promise((res) => setTimeout(res, 50));
        [row] = await mailOf(f.tenantId);
      }
      expect(row!.status).toBe("sent");
    } finally {
      await stopBoss();
      await getBoss(await getDbHandle());
      setClock(() => new Date(t));
    }
  });
});

describe("notification settings", () => {
  it("answers the defaults and stores a partial PUT", async () => {
    const f = await fleet();
    const g = await api("GET", "/api/v1/notification-settings", {
      token: f.apiKey,
    });
    expect(g.status).toBe(200);
    expect(g.body).toEqual({
      emails: null,
      minSeverity: "WARNING",
      digest: "off",
    });
    const p = await api("PUT", "/api/v1/notification-settings", {
      token: f.apiKey,
      body: { minSeverity: "CRITICAL" },
    });
    expect(p.body).toEqual({
      emails: null,
      minSeverity: "CRITICAL",
      digest: "off",
    });
    const q = await api("PUT", "/api/v1/notification-settings", {
      token: f.apiKey,
      body: { emails: [], minSeverity: "WARNING", digest: "daily" },
    });
    expect(q.body).toEqual({
      emails: [],
      minSeverity: "WARNING",
      digest: "daily",
    });
    expect(
      (await api("GET", "/api/v1/notification-settings", { token: f.apiKey }))
        .body,
    ).toEqual(q.body);
    const trail = await (
      await getDb()
    ).execute(
      sql`select count(*)::int as n from audit_log where tenant_id = ${f.tenantId} and action = 'notification_settings.update'`,
    );
    expect(JSON.stringify(trail)).toContain('"n":2');
  });

  it("rejects bad settings with 400 and isolates tenants", async () => {
    const a = await fleet();
    const b = await fleet();
    const bad: unknown[] = [
      { emails: ["not-an-email"] },
      { emails: Array.from({ length: 51 }, (_, i) => `x${i}@example.com`) },
      { minSeverity: "INFO" },
      { digest: "weekly" },
      { emails: "ops@example.com" },
      { contactEmails: [] },
    ];
    for (const body of bad) {
      const r = await api("PUT", "/api/v1/notification-settings", {
        token: a.apiKey,
        body,
      });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("invalid_request");
    }
    await api("PUT", "/api/v1/notification-settings", {
      token: b.apiKey,
      body: { emails: ["b-only@example.com"] },
    });
    expect(
      (await api("GET", "/api/v1/notification-settings", { token: a.apiKey }))
        .body.emails,
    ).toBeNull();
    expect(
      (await api("GET", "/api/v1/notification-settings", { token: b.apiKey }))
        .body.emails,
    ).toEqual(["b-only@example.com"]);
    expect((await api("GET", "/api/v1/notification-settings")).status).toBe(
      401,
    );
    expect(
      (await api("GET", "/api/v1/notification-settings", { token: a.op }))
        .status,
    ).toBe(403);
  });

  it("mails nobody for [] and respects minSeverity", async () => {
    const f = await fleet({ vms: 2 });
    await api("PUT", "/api/v1/notification-settings", {
      token: f.apiKey,
      body: { emails: [] },
    });
    await sendEvent(f, f.vmIds[0]!);
    expect(await mailOf(f.tenantId)).toEqual([]);

    await api("PUT", "/api/v1/notification-settings", {
      token: f.apiKey,
      body: { emails: null, minSeverity: "CRITICAL" },
    });
    // found by scrubbing, not consumed: WARNING
    await sendEvent(f, f.vmIds[1]!, {
      mechanism: "sigbus",
      sigbusCode: "BUS_MCEERR_AO",
    });
    expect(await mailOf(f.tenantId)).toEqual([]);
    // then consumed on the same VM: the incident becomes CRITICAL and mail starts with that update
    t += 60_000;
    await sendEvent(f, f.vmIds[1]!, {
      mechanism: "sigbus",
      sigbusCode: "BUS_MCEERR_AR",
    });
    t += 5 * 60_000;
    await runMaintenance(await getDb(), at());
    const rows = await mailOf(f.tenantId);
    expect(rows.map((r) => r.kind)).toEqual(["incident_updated"]);
    expect(rows[0]!.subject).toMatch(/severity raised to CRITICAL/);
    expect(rows[0]!.to).toEqual([`ops@${f.tenantId}.example`.toLowerCase()]);
  });

  it("sends the daily digest at 00:00 UTC, once", async () => {
    const f = await fleet();
    const day = new Date(t);
    const noon = Date.UTC(
      day.getUTCFullYear(),
      day.getUTCMonth(),
      day.getUTCDate() + 2,
      12,
    );
    t = noon;
    await api("PUT", "/api/v1/notification-settings", {
      token: f.apiKey,
      body: { digest: "daily", emails: ["digest@example.com"] },
    });
    await sendEvent(f, f.vmId);
    await runMaintenance(await getDb(), at());
    expect((await mailOf(f.tenantId)).map((r) => r.kind)).toEqual([
      "incident_opened",
    ]);
    t = noon + 11 * HOUR + 59 * 60_000;
    await runMaintenance(await getDb(), at());
    expect(
      (await mailOf(f.tenantId)).filter((r) => r.kind === "daily_digest"),
    ).toHaveLength(0);
    t = noon + 12 * HOUR + 30_000;
    await runMaintenance(await getDb(), at());
    await runMaintenance(await getDb(), at());
    const digests = (await mailOf(f.tenantId)).filter(
      (r) => r.kind === "daily_digest",
    );
    expect(digests).toHaveLength(1);
    expect(digests[0]!.to).toEqual(["digest@example.com"]);
    expect(digests[0]!.subject).toContain(
      new Date(noon).toISOString().slice(0, 10),
    );
    expect(digests[0]!.text).toContain("web-1");
  });
});
