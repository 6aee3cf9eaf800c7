import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { setClock } from "@/server/clock";
import { stopBoss } from "@/server/jobs/boss";
import { runMaintenance } from "@/server/maintenance";
import { api, fleet, uid } from "../helpers/api";
import { gpaOf, memoryEvent } from "../helpers/events";

const CE = "application/cloudevents+json";

afterAll(async () => {
  setClock(undefined);
  await stopBoss();
});

async function auditOf(target: string) {
  return rawRows<{ actor: string; action: string }>(
    await getDb(),
    sql`select actor, action from audit_log where target = ${target} order by at`,
  );
}

async function incidentOf(apiKey: string, vmId: string) {
  const r = await api("GET", `/api/v1/incidents?vmId=${vmId}`, {
    token: apiKey,
  });
  return r.body.data[0];
}

// A VM with an incident, evacuated by hand.
async function evacuatedByHand() {
  const f = await fleet();
  await api("POST", "/api/v1/events", {
    token: f.hostToken,
    body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
    contentType: CE,
  });
  const a = await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
    token: f.op,
  });
  expect(a.status).toBe(202);
  return { f, a };
}

describe("operator evacuation and cancel", () => {
  it("evacuates by hand (202, idempotent), cancels (200, incident back to open), and audits both", async () => {
    const { f, a } = await evacuatedByHand();
    expect(a.body.evacuationId).toMatch(/^evac_/);
    const again = await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
      token: f.op,
      body: {},
    });
    expect(again).toMatchObject({
      status: 202,
      body: { evacuationId: a.body.evacuationId },
    });
    const inc = await incidentOf(f.apiKey, f.vmId);
    expect(inc).toMatchObject({
      status: "evacuating",
      evacuation: { id: a.body.evacuationId, status: "scheduled" },
    });
    const listed = await api(
      "GET",
      `/api/v1/admin/evacuations?vmId=${f.vmId}`,
      { token: f.op },
    );
    expect(listed.body.data).toEqual([
      expect.objectContaining({
        id: a.body.evacuationId,
        reason: "operator",
        requestedBy: "operator",
        status: "scheduled",
        incidentId: inc.id,
      }),
    ]);

    const c = await api(
      "DELETE",
      `/api/v1/admin/evacuations/${a.body.evacuationId}`,
      { token: f.op },
    );
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({
      id: a.body.evacuationId,
      status: "cancelled",
    });
    expect(c.body.cancelledAt).toMatch(/Z$/);
    const after = await incidentOf(f.apiKey, f.vmId);
    expect(after).toMatchObject({
      status: "open",
      evacuation: { id: a.body.evacuationId, status: "cancelled" },
    });
    const detail = await api("GET", `/api/v1/incidents/${after.id}`, {
      token: f.apiKey,
    });
    expect(detail.body.timeline.map((t: { kind: string }) => t.kind)).toEqual(
      expect.arrayContaining(["evacuation_scheduled", "evacuation_cancelled"]),
    );

    const twice = await api(
      "DELETE",
      `/api/v1/admin/evacuations/${a.body.evacuationId}`,
      { token: f.op },
    );
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe("conflict");
    expect(
      (
        await api(
          "DELETE",
          "/api/v1/admin/evacuations/evac_01HZZZZZZZZZZZZZZZZZZZZZZZ",
          { token: f.op },
        )
      ).status,
    ).toBe(404);
    expect(
      (await auditOf(a.body.evacuationId)).map((r) => `${r.actor} ${r.action}`),
    ).toEqual(["operator evacuation.request", "operator evacuation.cancel"]);

    // a new request after a cancel is a new evacuation
    const b = await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
      token: f.op,
    });
    expect(b.status).toBe(202);
    expect(b.body.evacuationId).not.toBe(a.body.evacuationId);
  });

  it("answers 404 for an unknown VM, 409 for a stopped one, 400 for a past scheduledFor; a VM without errors can be evacuated", async () => {
    const f = await fleet({ vms: 2 });
    expect(
      (
        await api("POST", `/api/v1/admin/vms/${uid("nope")}/evacuate`, {
          token: f.op,
        })
      ).status,
    ).toBe(404);
    const past = await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
      token: f.op,
      body: { scheduledFor: "2020-01-01T00:00:00Z" },
    });
    expect(past.status).toBe(400);
    await api("PUT", `/api/v1/admin/vms/${f.vmIds[1]}`, {
      token: f.op,
      body: {
        projectId: f.projectId,
        name: "web-2",
        zone: "zone-a",
        hostId: null,
      },
    });
    const stopped = await api(
      "POST",
      `/api/v1/admin/vms/${f.vmIds[1]}/evacuate`,
      { token: f.op },
    );
    expect(stopped.status).toBe(409);
    const when = new Date(Date.now() + 3600_000).toISOString();
    const ok = await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
      token: f.op,
      body: { scheduledFor: when },
    });
    expect(ok.status).toBe(202);
    const vm = await api("GET", `/api/v1/vms/${f.vmId}`, { token: f.apiKey });
    expect(vm.body.memoryHealth.evacuation).toMatchObject({
      id: ok.body.evacuationId,
      status: "scheduled",
      scheduledFor: when,
    });
    // with no incident yet, a later error's incident joins the evacuation
    await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
      contentType: CE,
    });
    expect(await incidentOf(f.apiKey, f.vmId)).toMatchObject({
      status: "evacuating",
      evacuation: { id: ok.body.evacuationId },
    });
  });

  it("after a cancel the policy waits for new evidence: a repeated page does not evacuate again, a new page does", async () => {
    const f = await fleet();
    const send = (page: number) =>
      api("POST", "/api/v1/events", {
        token: f.hostToken,
        body: memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(page) }),
        contentType: CE,
      });
    for (const p of [1, 2, 3, 4]) await send(p);
    const first = (await incidentOf(f.apiKey, f.vmId)).evacuation;
    expect(first).toMatchObject({ status: "scheduled" });
    expect(
      (
        await api("DELETE", `/api/v1/admin/evacuations/${first.id}`, {
          token: f.op,
        })
      ).status,
    ).toBe(200);
    await send(2);
    expect(await incidentOf(f.apiKey, f.vmId)).toMatchObject({
      status: "open",
      evacuation: { id: first.id, status: "cancelled" },
    });
    await send(5);
    const second = await incidentOf(f.apiKey, f.vmId);
    expect(second.status).toBe("evacuating");
    expect(second.evacuation.id).not.toBe(first.id);
    expect(second.evacuation.status).toBe("scheduled");
  });

  it("a stop does not complete an evacuation; a start on the same host neither; a start elsewhere does", async () => {
    const f = await fleet();
    const host2 = uid("h");
    await api("PUT", `/api/v1/admin/hosts/${host2}`, {
      token: f.op,
      body: { zone: "zone-a" },
    });
    const e = await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
      token: f.op,
    });
    const put = (hostId: string | null) =>
      api("PUT", `/api/v1/admin/vms/${f.vmId}`, {
        token: f.op,
        body: { projectId: f.projectId, name: "web-1", zone: "zone-a", hostId },
      });
    const status = async () =>
      (
        await api("GET", `/api/v1/admin/evacuations?vmId=${f.vmId}`, {
          token: f.op,
        })
      ).body.data[0].status;
    await put(null);
    expect(await status()).toBe("scheduled");
    await put(f.hostId);
    expect(await status()).toBe("scheduled");
    await put(null);
    await put(host2);
    expect(await status()).toBe("completed");
    const done = (
      await api("GET", `/api/v1/admin/evacuations?vmId=${f.vmId}`, {
        token: f.op,
      })
    ).body.data[0];
    expect(done.id).toBe(e.body.evacuationId);
    expect(done.completedAt).toMatch(/Z$/);
    expect(
      (
        await api("DELETE", `/api/v1/admin/evacuations/${done.id}`, {
          token: f.op,
        })
      ).status,
    ).toBe(409);
  });

  it("maintenance starts due evacuations on the app clock, not before", async () => {
    const f = await fleet();
    const t = new Date(Math.floor(Date.now() / 1000) * 1000);
    setClock(() => t);
    const e = await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
      token: f.op,
    });
    const status = async () =>
      (
        await api("GET", `/api/v1/admin/evacuations?vmId=${f.vmId}`, {
          token: f.op,
        })
      ).body.data[0];
    await runMaintenance(
      await getDb(),
      new Date(t.getTime() + 15 * 60_000 - 1),
    );
    expect((await status()).status).toBe("scheduled");
    await runMaintenance(await getDb(), new Date(t.getTime() + 15 * 60_000));
    expect(await status()).toMatchObject({
      id: e.body.evacuationId,
      status: "in_progress",
      scheduledFor: new Date(t.getTime() + 15 * 60_000).toISOString(),
    });
    setClock(undefined);
  });
});

describe("operator routes refuse other credentials", () => {
  it("tenant API keys and host tokens get 403 on every operator route, without a token 401", async () => {
    const f = await fleet();
    const routes: [string, string, unknown?][] = [
      ["GET", `/api/v1/admin/hosts/${f.hostId}/health`],
      ["GET", "/api/v1/admin/hosts"],
      ["POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {}],
      ["GET", "/api/v1/admin/evacuations"],
      ["DELETE", "/api/v1/admin/evacuations/evac_01HZZZZZZZZZZZZZZZZZZZZZZZ"],
      ["POST", "/api/v1/admin/policy/preview", {}],
      ["GET", "/api/v1/admin/metrics"],
      ["GET", "/api/v1/admin/policy"],
      ["PUT", "/api/v1/admin/policy", { vmPages: 1 }],
      ["PUT", "/api/v1/admin/callback", { url: "http://127.0.0.1:9/x" }],
      ["GET", "/api/v1/admin/events"],
    ];
    for (const [method, path, body] of routes) {
      for (const token of [f.apiKey, f.hostToken]) {
        const r = await api(method, path, {
          token,
          ...(body !== undefined ? { body } : {}),
        });
        expect(r.status, `${method} ${path}`).toBe(403);
        expect(r.body.error.code).toBe("forbidden");
      }
      expect(
        (await api(method, path, body !== undefined ? { body } : {})).status,
        `${method} ${path}`,
      ).toBe(401);
    }
    // nothing changed
    expect(
      (
        await api("GET", `/api/v1/admin/evacuations?vmId=${f.vmId}`, {
          token: f.op,
        })
      ).body.data,
    ).toEqual([]);
    expect(
      (await api("GET", "/api/v1/admin/policy", { token: f.op })).body.vmPages,
    ).toBe(4);
  });
});

describe("a deleted VM", () => {
  it("deleting a VM cancels its active evacuation and resolves its incident at once", async () => {
    const { f, a } = await evacuatedByHand();
    expect(
      (await api("DELETE", `/api/v1/admin/vms/${f.vmId}`, { token: f.op }))
        .status,
    ).toBe(204);
    const evac = await api("GET", `/api/v1/admin/evacuations?vmId=${f.vmId}`, {
      token: f.op,
    });
    expect(evac.body.data).toEqual([
      expect.objectContaining({ id: a.body.evacuationId, status: "cancelled" }),
    ]);
    const inc = await incidentOf(f.apiKey, f.vmId);
    expect(inc).toMatchObject({
      status: "resolved",
      resolvedAt: expect.stringMatching(/Z$/),
      evacuation: { id: a.body.evacuationId, status: "cancelled" },
    });
    const detail = await api("GET", `/api/v1/incidents/${inc.id}`, {
      token: f.apiKey,
    });
    const timeline = detail.body.timeline.map(
      (t: { kind: string; summary: string }) => [t.kind, t.summary],
    );
    expect(timeline).toEqual(
      expect.arrayContaining([
        ["evacuation_cancelled", expect.stringContaining("VM was deleted")],
        ["resolved", "Resolved: the VM was deleted"],
      ]),
    );
    expect(timeline[timeline.length - 1]).toEqual([
      "resolved",
      "Resolved: the VM was deleted",
    ]);
    // the quiet period changes nothing more
    const later = new Date(Date.now() + 2 * 86400_000);
    setClock(() => later);
    try {
      await runMaintenance(await getDb(), later);
    } finally {
      setClock(undefined);
    }
    expect(await incidentOf(f.apiKey, f.vmId)).toMatchObject({
      id: inc.id,
      status: "resolved",
      resolvedAt: inc.resolvedAt,
    });
  });
});
