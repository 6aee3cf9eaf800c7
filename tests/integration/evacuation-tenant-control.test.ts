import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { now, setClock } from "@/server/clock";
import { stopBoss } from "@/server/jobs/boss";
import { runMaintenance } from "@/server/maintenance";
import { deliverDueWebhooks } from "@/server/notify/webhook-worker";
import { EVACUATION_LEAD_SECONDS } from "@/server/policy/evacuations";
import { api, fleet } from "../helpers/api";
import { memoryEvent } from "../helpers/events";
import { pointCallbackAt, startReceiver } from "../helpers/notify-fakes";
import type { Receiver } from "../helpers/notify-fakes";
import { callerFor, expectTRPCError, tenantWorld } from "../helpers/trpc";

// The tenant's say in when its VM restarts (spec "Tenant control of an evacuation"): deadline,
// start now, defer, maintenance windows, 409 once no longer scheduled, and who is told.

const CE = "application/cloudevents+json";
const H = 3600_000;
// the next Monday, 09:00 UTC: the clock of these tests, never behind the real one
const T0 = (() => {
  const d = new Date(Date.now() + H);
  d.setUTCHours(9, 0, 0, 0);
  while (d.getUTCDay() !== 1 || d.getTime() < Date.now())
    d.setUTCDate(d.getUTCDate() + 1);
  return d;
})();
const isoDay = (daysAfterT0: number, hhmm: string) =>
  `${new Date(T0.getTime() + daysAfterT0 * 86400_000).toISOString().slice(0, 10)}T${hhmm}:00.000Z`;
const lead = EVACUATION_LEAD_SECONDS * 1000;

let rx: Receiver;
let callbackPath: string;

function setNow(t: Date) {
  setClock(() => t);
}
const plus = (ms: number, from = T0) => new Date(from.getTime() + ms);
const iso = (d: Date) => d.toISOString();

beforeAll(async () => {
  rx = await startReceiver();
  setNow(T0);
  const f = await fleet();
  ({ path: callbackPath } = await pointCallbackAt(rx, f.op));
});
afterAll(async () => {
  setClock(undefined);
  await stopBoss();
  await rx.close();
});

const TYPES = [
  "vm.evacuation_scheduled",
  "vm.evacuation_rescheduled",
  "vm.evacuation_cancelled",
  "vm.evacuation_completed",
  "incident.updated",
];

// A tenant with a webhook and a VM whose evacuation the operator requested (an error first, so it has an incident).
async function scheduled(opts: { vms?: number } = {}) {
  const f = await fleet(opts);
  const path = rx.newPath();
  const hook = await api("POST", "/api/v1/webhooks", {
    token: f.apiKey,
    body: { url: rx.url(path), eventTypes: TYPES },
  });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  rx.setSecrets(path, [hook.body.secret]);
  expect(
    (
      await api("POST", "/api/v1/events", {
        token: f.hostToken,
        body: memoryEvent({ hostId: f.hostId, vmId: f.vmId, time: iso(now()) }),
        contentType: CE,
      })
    ).status,
  ).toBe(200);
  const incidentId = (
    await api("GET", `/api/v1/incidents?vmId=${f.vmId}`, { token: f.apiKey })
  ).body.data[0].id as string;
  const ev = await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
    token: f.op,
    body: {},
  });
  expect(ev.status).toBe(202);
  return {
    ...f,
    hook: path,
    incidentId,
    evacuationId: ev.body.evacuationId as string,
  };
}

async function deliver() {
  await deliverDueWebhooks(await getDb(), now());
  expect(rx.unverified).toEqual([]);
}
const callbacksOf = (vmId: string) =>
  rx.on(callbackPath).filter((r) => r.payload.data.vmId === vmId);
const kindsOf = (body: { timeline: { kind: string }[] }) =>
  body.timeline.map((t) => t.kind);

describe("deadline and requestedAt", () => {
  it("every evacuation has requestedAt and deadline = requestedAt + policy.maxDeferSeconds", async () => {
    setNow(T0);
    const f = await scheduled();
    const inc = await api("GET", `/api/v1/incidents/${f.incidentId}`, {
      token: f.apiKey,
    });
    expect(inc.body.evacuation).toEqual({
      id: f.evacuationId,
      status: "scheduled",
      scheduledFor: iso(plus(lead)),
      requestedAt: iso(T0),
      deadline: iso(plus(24 * H)),
    });
    const list = await api("GET", `/api/v1/incidents?vmId=${f.vmId}`, {
      token: f.apiKey,
    });
    expect(list.body.data[0].evacuation).toMatchObject({
      deadline: iso(plus(24 * H)),
      requestedAt: iso(T0),
    });
    const vm = await api("GET", `/api/v1/vms/${f.vmId}`, { token: f.apiKey });
    expect(vm.body.memoryHealth.evacuation).toMatchObject({
      deadline: iso(plus(24 * H)),
      requestedAt: iso(T0),
    });
    const ops = await api("GET", `/api/v1/admin/evacuations?vmId=${f.vmId}`, {
      token: f.op,
    });
    expect(ops.body.data[0]).toMatchObject({
      deadline: iso(plus(24 * H)),
      startedAt: null,
    });

    // a shorter maxDeferSeconds: a shorter deadline for new evacuations, never a restart after it
    expect(
      (
        await api("PUT", "/api/v1/admin/policy", {
          token: f.op,
          body: { maxDeferSeconds: 600 },
        })
      ).status,
    ).toBe(200);
    try {
      const g = await scheduled();
      const e = (
        await api("GET", `/api/v1/incidents/${g.incidentId}`, {
          token: g.apiKey,
        })
      ).body.evacuation;
      expect(e.deadline).toBe(iso(plus(600_000)));
      expect(e.scheduledFor).toBe(iso(plus(600_000)));
      // the operator cannot schedule past the deadline either
      const h = await fleet();
      const refused = await api(
        "POST",
        `/api/v1/admin/vms/${h.vmId}/evacuate`,
        { token: h.op, body: { scheduledFor: iso(plus(H)) } },
      );
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({
        code: "invalid_request",
        details: [{ path: "scheduledFor" }],
      });
    } finally {
      await api("PUT", "/api/v1/admin/policy", {
        token: f.op,
        body: { maxDeferSeconds: 86400 },
      });
    }
    const bad = await api("PUT", "/api/v1/admin/policy", {
      token: f.op,
      body: { maxDeferSeconds: -1 },
    });
    expect(bad.status).toBe(400);
  });
});

describe("POST /api/v1/incidents/{id}/evacuation/defer", () => {
  it("moves the restart up to the deadline, records it, and tells the tenant and the control plane", async () => {
    setNow(T0);
    const f = await scheduled();
    await deliver();
    setNow(plus(60_000));
    const until = plus(6 * H);
    const r = await api(
      "POST",
      `/api/v1/incidents/${f.incidentId}/evacuation/defer`,
      {
        token: f.apiKey,
        body: { until: `${isoDay(0, "16:00").slice(0, 19)}+01:00` },
      },
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({
      id: f.incidentId,
      status: "evacuating",
      evacuation: {
        id: f.evacuationId,
        status: "scheduled",
        scheduledFor: iso(until),
        deadline: iso(plus(24 * H)),
      },
    });
    expect(kindsOf(r.body)).toContain("evacuation_rescheduled");
    const entry = r.body.timeline.find(
      (t: { kind: string }) => t.kind === "evacuation_rescheduled",
    );
    expect(entry.summary).toContain(iso(until));
    expect(entry.summary).toContain(iso(plus(lead)));
    expect(r.body.playbook.steps.length).toBeGreaterThan(0);

    // the maintenance tick does not start it at the old time
    setNow(plus(lead + 60_000));
    await runMaintenance(await getDb(), now());
    expect(
      (
        await api("GET", `/api/v1/incidents/${f.incidentId}`, {
          token: f.apiKey,
        })
      ).body.evacuation.status,
    ).toBe("scheduled");

    await deliver();
    const tenant = rx
      .on(f.hook)
      .filter((m) => m.payload.type === "vm.evacuation_rescheduled");
    expect(tenant).toHaveLength(1);
    expect(tenant[0]!.verifiedWith).toHaveLength(1);
    expect(tenant[0]!.payload.data).toEqual({
      evacuationId: f.evacuationId,
      vm: { id: f.vmId, name: "web-1", projectId: f.projectId },
      incidentId: f.incidentId,
      scheduledFor: iso(until),
      reason: "tenant_defer",
    });
    expect(tenant[0]!.body).not.toContain(f.hostId);
    const cb = callbacksOf(f.vmId).filter(
      (m) => m.payload.type === "vm.evacuation_rescheduled",
    );
    expect(cb).toHaveLength(1);
    expect(cb[0]!.verifiedWith).toHaveLength(1);
    expect(cb[0]!.payload.data).toEqual({
      evacuationId: f.evacuationId,
      vmId: f.vmId,
      scheduledFor: iso(until),
      deadline: iso(plus(24 * H)),
      reason: "tenant_defer",
    });
    // an email tells the tenant's people (coalesced like every incident change)
    setNow(plus(lead + 3600_000));
    await runMaintenance(await getDb(), now());
    const mails = await rawRows<{ subject: string; text: string }>(
      await getDb(),
      sql`select subject, text from emails where tenant_id = ${f.tenantId} and kind = 'incident_updated' order by created_at`,
    );
    expect(
      mails.some(
        (m) =>
          m.text.includes("the restart on a healthy host was moved") &&
          m.text.includes(`${isoDay(0, "15:00").slice(0, 10)} 15:00 UTC`),
      ),
    ).toBe(true);
    expect(
      mails.every((m) => m.subject.startsWith("[CRITICAL] web-1 — ")),
    ).toBe(true);
    // the audit log names the key
    const audit = await rawRows<{ action: string; actor: string }>(
      await getDb(),
      sql`select action, actor from audit_log where target = ${f.evacuationId}`,
    );
    expect(audit).toContainEqual({
      action: "evacuation.defer",
      actor: expect.stringMatching(/^api_key:/),
    });
  });

  it("refuses a time not after scheduledFor or past the deadline (400, nothing changes)", async () => {
    setNow(T0);
    const f = await scheduled();
    const path = `/api/v1/incidents/${f.incidentId}/evacuation/defer`;
    for (const [until, detail] of [
      [iso(plus(lead)), "until"],
      [iso(plus(60_000)), "until"],
      [iso(plus(24 * H + 1000)), "until"],
      ["tomorrow", "until"],
      [undefined, "until"],
    ] as const) {
      const r = await api("POST", path, {
        token: f.apiKey,
        body: until === undefined ? {} : { until },
      });
      expect(r.status, `${until}: ${JSON.stringify(r.body)}`).toBe(400);
      expect(r.body.error.code).toBe("invalid_request");
      expect(r.body.error.details[0].path).toBe(detail);
    }
    expect(
      (
        await api("POST", path, {
          token: f.apiKey,
          body: { until: iso(plus(H)), extra: 1 },
        })
      ).status,
    ).toBe(400);
    // exactly the deadline is allowed
    const atDeadline = await api("POST", path, {
      token: f.apiKey,
      body: { until: iso(plus(24 * H)) },
    });
    expect(atDeadline.status).toBe(200);
    expect(atDeadline.body.evacuation.scheduledFor).toBe(iso(plus(24 * H)));
    // and it starts then, never later
    setNow(plus(24 * H));
    await runMaintenance(await getDb(), now());
    expect(
      (
        await api("GET", `/api/v1/incidents/${f.incidentId}`, {
          token: f.apiKey,
        })
      ).body.evacuation.status,
    ).toBe("in_progress");
  });
});

describe("POST /api/v1/incidents/{id}/evacuation/start", () => {
  it("starts the restart now; after that both calls answer 409", async () => {
    setNow(T0);
    const f = await scheduled();
    setNow(plus(120_000));
    const r = await api(
      "POST",
      `/api/v1/incidents/${f.incidentId}/evacuation/start`,
      { token: f.apiKey },
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.evacuation).toMatchObject({
      id: f.evacuationId,
      status: "in_progress",
      scheduledFor: iso(plus(120_000)),
    });
    expect(kindsOf(r.body)).toEqual(
      expect.arrayContaining([
        "evacuation_scheduled",
        "evacuation_rescheduled",
        "evacuation_started",
      ]),
    );
    const ops = await api("GET", `/api/v1/admin/evacuations?vmId=${f.vmId}`, {
      token: f.op,
    });
    expect(ops.body.data[0]).toMatchObject({
      status: "in_progress",
      startedAt: iso(plus(120_000)),
    });

    for (const [call, body] of [
      ["start", undefined],
      ["defer", { until: iso(plus(2 * H)) }],
      // invalid input on an evacuation no longer scheduled is still the conflict
      ["defer", { until: iso(plus(48 * H)) }],
    ] as const) {
      const again = await api(
        "POST",
        `/api/v1/incidents/${f.incidentId}/evacuation/${call}`,
        { token: f.apiKey, body },
      );
      expect(again.status, `${call}: ${JSON.stringify(again.body)}`).toBe(409);
      expect(again.body.error.code).toBe("conflict");
      expect(again.body.error.message).toMatch(/in progress/);
    }
    await deliver();
    const cb = callbacksOf(f.vmId).filter(
      (m) => m.payload.type === "vm.evacuation_rescheduled",
    );
    expect(cb.map((m) => m.payload.data)).toEqual([
      {
        evacuationId: f.evacuationId,
        vmId: f.vmId,
        scheduledFor: iso(plus(120_000)),
        deadline: iso(plus(24 * H)),
        reason: "tenant_start_now",
      },
    ]);
    expect(
      rx
        .on(f.hook)
        .filter((m) => m.payload.type === "vm.evacuation_rescheduled")
        .map((m) => m.payload.data.reason),
    ).toEqual(["tenant_start_now"]);
  });

  it("answers 409 for an incident without a scheduled evacuation and after a cancel or completion", async () => {
    setNow(T0);
    const f = await fleet();
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: memoryEvent({ hostId: f.hostId, vmId: f.vmId, time: iso(T0) }),
          contentType: CE,
        })
      ).status,
    ).toBe(200);
    const incidentId = (
      await api("GET", `/api/v1/incidents?vmId=${f.vmId}`, { token: f.apiKey })
    ).body.data[0].id as string;
    const none = await api(
      "POST",
      `/api/v1/incidents/${incidentId}/evacuation/start`,
      { token: f.apiKey },
    );
    expect(none.status).toBe(409);
    expect(none.body.error.code).toBe("conflict");

    const g = await scheduled();
    expect(
      (
        await api("DELETE", `/api/v1/admin/evacuations/${g.evacuationId}`, {
          token: g.op,
        })
      ).status,
    ).toBe(200);
    const cancelled = await api(
      "POST",
      `/api/v1/incidents/${g.incidentId}/evacuation/defer`,
      { token: g.apiKey, body: { until: iso(plus(H)) } },
    );
    expect(cancelled.status).toBe(409);
    expect(cancelled.body.error.message).toMatch(/cancelled/);
    // an unknown incident is 404
    const unknown = await api(
      "POST",
      `/api/v1/incidents/inc_01JAB3K4M5N6P7Q8R9S0T1V2W3/evacuation/start`,
      { token: g.apiKey },
    );
    expect(unknown.status).toBe(404);
  });

  it("the operator can start an evacuation at once, whatever the tenant chose", async () => {
    setNow(T0);
    const f = await scheduled();
    expect(
      (
        await api(
          "POST",
          `/api/v1/incidents/${f.incidentId}/evacuation/defer`,
          { token: f.apiKey, body: { until: iso(plus(20 * H)) } },
        )
      ).status,
    ).toBe(200);
    setNow(plus(H));
    const r = await api(
      "POST",
      `/api/v1/admin/evacuations/${f.evacuationId}/start`,
      { token: f.op },
    );
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({
      id: f.evacuationId,
      status: "in_progress",
      scheduledFor: iso(plus(H)),
      startedAt: iso(plus(H)),
    });
    expect(
      (
        await api("POST", `/api/v1/admin/evacuations/${f.evacuationId}/start`, {
          token: f.op,
        })
      ).status,
    ).toBe(409);
    const inc = await api("GET", `/api/v1/incidents/${f.incidentId}`, {
      token: f.apiKey,
    });
    expect(
      inc.body.timeline
        .filter((t: { kind: string }) => t.kind === "evacuation_rescheduled")
        .map((t: { summary: string }) => t.summary),
    ).toEqual([
      expect.stringContaining("moved from"),
      expect.stringContaining("started now by the platform operator"),
    ]);
    await deliver();
    expect(
      callbacksOf(f.vmId)
        .filter((m) => m.payload.type === "vm.evacuation_rescheduled")
        .map((m) => m.payload.data.reason)
        .sort(),
    ).toEqual(["operator_start_now", "tenant_defer"]);
  });
});

describe("maintenance windows", () => {
  it("GET/PUT validate and store a project's window; null clears it", async () => {
    const f = await fleet();
    const path = `/api/v1/projects/${f.projectId}/maintenance-window`;
    expect((await api("GET", path, { token: f.apiKey })).body).toBeNull();
    const w = {
      days: ["tue", "thu"],
      start: "02:00",
      durationMinutes: 120,
      timeZone: "Europe/Berlin",
    };
    const put = await api("PUT", path, { token: f.apiKey, body: w });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toEqual(w);
    expect((await api("GET", path, { token: f.apiKey })).body).toEqual(w);
    for (const [bad, field] of [
      [{ ...w, days: [] }, "days"],
      [{ ...w, days: ["tue", "tue"] }, "days"],
      [{ ...w, days: ["someday"] }, "days.0"],
      [{ ...w, start: "24:00" }, "start"],
      [{ ...w, start: "2:00" }, "start"],
      [{ ...w, durationMinutes: 29 }, "durationMinutes"],
      [{ ...w, durationMinutes: 721 }, "durationMinutes"],
      [{ ...w, timeZone: "Mars/Olympus" }, "timeZone"],
      [{ ...w, extra: true }, ""],
    ] as const) {
      const r = await api("PUT", path, { token: f.apiKey, body: bad });
      expect(
        r.status,
        `${JSON.stringify(bad)}: ${JSON.stringify(r.body)}`,
      ).toBe(400);
      expect(r.body.error.code).toBe("invalid_request");
      if (field)
        expect(
          r.body.error.details.map((d: { path: string }) => d.path),
        ).toContain(field);
    }
    expect((await api("PUT", path, { token: f.apiKey })).status).toBe(400);
    expect((await api("GET", path, { token: f.apiKey })).body).toEqual(w);
    const cleared = await api("PUT", path, {
      token: f.apiKey,
      rawBody: "null",
    });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toBeNull();
    expect((await api("GET", path, { token: f.apiKey })).body).toBeNull();
    expect(
      (
        await api(
          "GET",
          `/api/v1/projects/no-such-project/maintenance-window`,
          { token: f.apiKey },
        )
      ).status,
    ).toBe(404);
  });

  it("a new evacuation is scheduled at the window's next opening before the deadline, else at the default time", async () => {
    setNow(T0);
    const f = await fleet({ vms: 2 });
    const path = `/api/v1/projects/${f.projectId}/maintenance-window`;
    // Tuesday 02:00 in Lagos (UTC+1 all year) = 01:00 UTC, 16 h after T0: inside the 24 h deadline
    expect(
      (
        await api("PUT", path, {
          token: f.apiKey,
          body: {
            days: ["tue"],
            start: "02:00",
            durationMinutes: 60,
            timeZone: "Africa/Lagos",
          },
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: memoryEvent({
            hostId: f.hostId,
            vmId: f.vmIds[0]!,
            time: iso(T0),
          }),
          contentType: CE,
        })
      ).status,
    ).toBe(200);
    const ev = await api("POST", `/api/v1/admin/vms/${f.vmIds[0]}/evacuate`, {
      token: f.op,
      body: {},
    });
    const inc = (
      await api("GET", `/api/v1/incidents?vmId=${f.vmIds[0]}`, {
        token: f.apiKey,
      })
    ).body.data[0];
    expect(inc.evacuation).toMatchObject({
      id: ev.body.evacuationId,
      scheduledFor: isoDay(1, "01:00"),
      deadline: iso(plus(24 * H)),
    });
    const detail = await api("GET", `/api/v1/incidents/${inc.id}`, {
      token: f.apiKey,
    });
    expect(
      detail.body.timeline.find(
        (t: { kind: string }) => t.kind === "evacuation_scheduled",
      ).summary,
    ).toContain("maintenance window");
    await deliver();
    // (two messages, delivered concurrently: in no particular order)
    const cb = callbacksOf(f.vmIds[0]!);
    expect(cb.map((m) => m.payload.type).sort()).toEqual([
      "vm.evacuation_requested",
      "vm.evacuation_rescheduled",
    ]);
    expect(
      cb.find((m) => m.payload.type === "vm.evacuation_rescheduled")!.payload
        .data,
    ).toEqual({
      evacuationId: ev.body.evacuationId,
      vmId: f.vmIds[0],
      scheduledFor: isoDay(1, "01:00"),
      deadline: iso(plus(24 * H)),
      reason: "maintenance_window",
    });

    // Thursday's opening is after the deadline: the default time
    expect(
      (
        await api("PUT", path, {
          token: f.apiKey,
          body: {
            days: ["thu"],
            start: "02:00",
            durationMinutes: 60,
            timeZone: "Africa/Lagos",
          },
        })
      ).status,
    ).toBe(200);
    const late = await api("POST", `/api/v1/admin/vms/${f.vmIds[1]}/evacuate`, {
      token: f.op,
      body: {},
    });
    const row = (
      await api("GET", `/api/v1/admin/evacuations?vmId=${f.vmIds[1]}`, {
        token: f.op,
      })
    ).body.data[0];
    expect(row).toMatchObject({
      id: late.body.evacuationId,
      scheduledFor: iso(plus(lead)),
    });
    await deliver();
    expect(callbacksOf(f.vmIds[1]!).map((m) => m.payload.type)).toEqual([
      "vm.evacuation_requested",
    ]);
  });
});

describe("tRPC: start and defer for members, not viewers", () => {
  it("members start and defer; a viewer is refused", async () => {
    // tenantWorld's events carry the real time
    const t = new Date(Math.floor(Date.now() / 1000) * 1000);
    setNow(t);
    const plus = (ms: number) => new Date(t.getTime() + ms);
    const W = await tenantWorld();
    const op = (await fleet()).op;
    const r = await api("POST", `/api/v1/admin/vms/${W.vmId}/evacuate`, {
      token: op,
      body: {},
    });
    expect(r.status).toBe(202);
    const member = await callerFor(W.emails.member);
    const viewer = await callerFor(W.emails.viewer);
    await expectTRPCError(
      viewer.incident.deferEvacuation({
        id: W.incidentId,
        until: iso(plus(2 * H)),
      }),
      "FORBIDDEN",
    );
    const deferred = await member.incident.deferEvacuation({
      id: W.incidentId,
      until: iso(plus(2 * H)),
    });
    expect(deferred.evacuation).toMatchObject({
      status: "scheduled",
      scheduledFor: iso(plus(2 * H)),
    });
    await expectTRPCError(
      member.incident.deferEvacuation({
        id: W.incidentId,
        until: iso(plus(48 * H)),
      }),
      "BAD_REQUEST",
    );
    await expectTRPCError(
      viewer.incident.startEvacuation({ id: W.incidentId }),
      "FORBIDDEN",
    );
    const started = await member.incident.startEvacuation({ id: W.incidentId });
    expect(started.evacuation).toMatchObject({ status: "in_progress" });
    await expectTRPCError(
      member.incident.startEvacuation({ id: W.incidentId }),
      "CONFLICT",
    );
    const audit = await rawRows<{ actor: string }>(
      await getDb(),
      sql`select actor from audit_log where action = 'evacuation.start_now' and tenant_id = ${W.tenantId}`,
    );
    expect(audit).toEqual([{ actor: `user:${W.emails.member}` }]);
  });
});
