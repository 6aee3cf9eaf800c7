import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { now, setClock } from "@/server/clock";
import { stopBoss } from "@/server/jobs/boss";
import { runMaintenance } from "@/server/maintenance";
import { deliverDueWebhooks } from "@/server/notify/webhook-worker";
import { EVACUATION_LEAD_SECONDS } from "@/server/policy/evacuations";
import { api, fleet, uid } from "../helpers/api";
import { gpaOf, memoryEvent } from "../helpers/events";
import { pointCallbackAt, startReceiver } from "../helpers/notify-fakes";
import type { Receiver } from "../helpers/notify-fakes";

const CE = "application/cloudevents+json";
const BATCH = "application/cloudevents-batch+json";

let rx: Receiver;
let callbackPath: string;
let t0: Date;

function at(offsetSeconds: number) {
  return new Date(t0.getTime() + offsetSeconds * 1000);
}
function setNow(offsetSeconds: number) {
  const t = at(offsetSeconds);
  setClock(() => t);
}

beforeAll(async () => {
  rx = await startReceiver();
  t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
  setNow(0);
  const f = await fleet();
  ({ path: callbackPath } = await pointCallbackAt(rx, f.op));
});
afterAll(async () => {
  setClock(undefined);
  await stopBoss();
  await rx.close();
});

async function subscribe(apiKey: string) {
  const path = rx.newPath();
  const c = await api("POST", "/api/v1/webhooks", {
    token: apiKey,
    body: {
      url: rx.url(path),
      eventTypes: [
        "vm.evacuation_scheduled",
        "vm.evacuation_completed",
        "incident.opened",
        "incident.updated",
        "incident.resolved",
      ],
    },
  });
  expect(c.status).toBe(201);
  rx.setSecrets(path, [c.body.secret]);
  return path;
}

async function deliver() {
  return deliverDueWebhooks(await getDb(), now());
}

describe("evacuation workflow, end to end", () => {
  it("threshold crossed → scheduled → callback, webhook, email → moved → completed → resolved after the quiet period", async () => {
    const f = await fleet();
    const hook = await subscribe(f.apiKey);
    const host2 = uid("h");
    await api("PUT", `/api/v1/admin/hosts/${host2}`, {
      token: f.op,
      body: { zone: "zone-a" },
    });

    // three distinct pages (one repeated): below the threshold of 4
    const send = (page: number | null, offset: number) =>
      api("POST", "/api/v1/events", {
        token: f.hostToken,
        body: memoryEvent({
          hostId: f.hostId,
          vmId: f.vmId,
          gpa: page === null ? null : gpaOf(page),
          time: at(offset).toISOString(),
        }),
        contentType: CE,
      });
    setNow(10);
    for (const p of [1, 2, 2, 3]) expect((await send(p, 5)).status).toBe(200);
    const before = await api("GET", `/api/v1/vms/${f.vmId}`, {
      token: f.apiKey,
    });
    expect(before.body.memoryHealth).toMatchObject({
      distinctPages: 3,
      threshold: 4,
      evacuation: null,
    });
    const incs = await api("GET", "/api/v1/incidents", { token: f.apiKey });
    const incidentId = incs.body.data[0].id as string;
    expect(incs.body.data[0]).toMatchObject({
      status: "open",
      evacuation: null,
    });

    // the fourth distinct page is unlocated (no address): it counts as a page of its own
    setNow(20);
    expect((await send(null, 15)).status).toBe(200);
    const inc = await api("GET", `/api/v1/incidents/${incidentId}`, {
      token: f.apiKey,
    });
    expect(inc.body.status).toBe("evacuating");
    expect(inc.body.evacuation).toMatchObject({
      status: "scheduled",
      scheduledFor: at(20 + EVACUATION_LEAD_SECONDS).toISOString(),
    });
    expect(inc.body.evacuation.id).toMatch(/^evac_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(inc.body.playbook.key).toBe("evacuation-scheduled");
    expect(inc.body.timeline.map((t: { kind: string }) => t.kind)).toContain(
      "evacuation_scheduled",
    );
    expect(JSON.stringify(inc.body)).not.toContain(f.hostId);
    const evacuationId = inc.body.evacuation.id as string;
    const vm = await api("GET", `/api/v1/vms/${f.vmId}`, { token: f.apiKey });
    expect(vm.body.memoryHealth).toMatchObject({
      distinctPages: 4,
      evacuation: {
        id: evacuationId,
        status: "scheduled",
        scheduledFor: at(20 + EVACUATION_LEAD_SECONDS).toISOString(),
      },
    });
    const listed = await api(
      "GET",
      `/api/v1/incidents?status=evacuating&vmId=${f.vmId}`,
      { token: f.apiKey },
    );
    expect(listed.body.data.map((i: { id: string }) => i.id)).toEqual([
      incidentId,
    ]);

    // more errors while scheduled: still one evacuation
    setNow(30);
    expect((await send(9, 25)).status).toBe(200);
    const ops = await api("GET", `/api/v1/admin/evacuations?vmId=${f.vmId}`, {
      token: f.op,
    });
    expect(ops.body.data).toHaveLength(1);
    expect(ops.body.data[0]).toMatchObject({
      id: evacuationId,
      reason: "distinct_pages",
      distinctPages: 4,
      requestedBy: "policy",
      hostId: f.hostId,
    });

    // the control plane gets one signed vm.evacuation_requested; the tenant its webhook
    await deliver();
    expect(rx.unverified).toEqual([]);
    const callbacks = rx
      .on(callbackPath)
      .filter((r) => r.payload.data.vmId === f.vmId);
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]!.verifiedWith).toHaveLength(1);
    expect(callbacks[0]!.id).toMatch(/^msg_/);
    expect(callbacks[0]!.payload).toMatchObject({
      type: "vm.evacuation_requested",
      data: {
        evacuationId,
        vmId: f.vmId,
        projectId: f.projectId,
        tenantId: f.tenantId,
        hostId: f.hostId,
        reason: "distinct_pages",
        distinctPages: 4,
        requestedAt: at(20).toISOString(),
      },
    });
    const tenantTypes = () => rx.on(hook).map((r) => r.payload.type);
    expect(tenantTypes()).toContain("vm.evacuation_scheduled");
    const scheduled = rx
      .on(hook)
      .find((r) => r.payload.type === "vm.evacuation_scheduled")!;
    expect(scheduled.payload.data).toEqual({
      evacuationId,
      vm: { id: f.vmId, name: "web-1", projectId: f.projectId },
      incidentId,
      scheduledFor: at(20 + EVACUATION_LEAD_SECONDS).toISOString(),
      reason: "distinct_pages",
    });
    expect(scheduled.body).not.toContain(f.hostId);

    // at scheduledFor the maintenance tick starts it
    setNow(20 + EVACUATION_LEAD_SECONDS);
    await runMaintenance(await getDb(), now());
    const started = await api("GET", `/api/v1/incidents/${incidentId}`, {
      token: f.apiKey,
    });
    expect(started.body).toMatchObject({
      status: "evacuating",
      evacuation: { id: evacuationId, status: "in_progress" },
    });
    // the coalesced incident email (due after coalesceSeconds) tells the truth: a restart on a healthy host
    const mails = await rawRows<{ subject: string; text: string }>(
      await getDb(),
      sql`select subject, text from emails where tenant_id = ${f.tenantId} order by created_at`,
    );
    expect(
      mails.some(
        (m) => /restart/i.test(m.text) && /healthy host/i.test(m.text),
      ),
    ).toBe(true);

    // the inventory shows the VM on another host: completed, incident back to open
    setNow(20 + EVACUATION_LEAD_SECONDS + 120);
    const moved = await api("PUT", `/api/v1/admin/vms/${f.vmId}`, {
      token: f.op,
      body: {
        projectId: f.projectId,
        name: "web-1",
        zone: "zone-a",
        hostId: host2,
      },
    });
    expect(moved.status).toBe(200);
    const done = await api("GET", `/api/v1/incidents/${incidentId}`, {
      token: f.apiKey,
    });
    expect(done.body).toMatchObject({
      status: "open",
      resolvedAt: null,
      evacuation: { id: evacuationId, status: "completed" },
    });
    expect(done.body.playbook.key).not.toBe("evacuation-scheduled");
    expect(done.body.timeline.map((t: { kind: string }) => t.kind)).toEqual(
      expect.arrayContaining([
        "evacuation_scheduled",
        "evacuation_started",
        "evacuation_completed",
      ]),
    );
    const vmAfter = await api("GET", `/api/v1/vms/${f.vmId}`, {
      token: f.apiKey,
    });
    expect(vmAfter.body.memoryHealth.evacuation).toMatchObject({
      id: evacuationId,
      status: "completed",
    });
    // a restart gave the VM fresh memory: pages from before no longer count against it
    expect(vmAfter.body.memoryHealth.distinctPages).toBe(0);
    await deliver();
    expect(tenantTypes()).toContain("vm.evacuation_completed");
    const completed = rx
      .on(hook)
      .find((r) => r.payload.type === "vm.evacuation_completed")!;
    expect(completed.payload.data).toMatchObject({ evacuationId, incidentId });
    expect(
      rx.on(callbackPath).filter((r) => r.payload.data.vmId === f.vmId),
    ).toHaveLength(1);

    // one new error on the new host does not evacuate again
    const tok2 = await api("POST", `/api/v1/admin/hosts/${host2}/tokens`, {
      token: f.op,
    });
    setNow(20 + EVACUATION_LEAD_SECONDS + 300);
    const e2 = await api("POST", "/api/v1/events", {
      token: tok2.body.token,
      body: memoryEvent({
        hostId: host2,
        vmId: f.vmId,
        gpa: gpaOf(1),
        time: at(20 + EVACUATION_LEAD_SECONDS + 290).toISOString(),
      }),
      contentType: CE,
    });
    expect(e2.body.accepted).toBe(1);
    const still = await api("GET", `/api/v1/incidents/${incidentId}`, {
      token: f.apiKey,
    });
    expect(still.body).toMatchObject({
      status: "open",
      evacuation: { id: evacuationId, status: "completed" },
    });

    // quiet period passes: resolved
    const quiet = 86400;
    setNow(20 + EVACUATION_LEAD_SECONDS + 300 + quiet - 60);
    await runMaintenance(await getDb(), now());
    expect(
      (await api("GET", `/api/v1/incidents/${incidentId}`, { token: f.apiKey }))
        .body.status,
    ).toBe("open");
    setNow(20 + EVACUATION_LEAD_SECONDS + 300 + quiet + 60);
    await runMaintenance(await getDb(), now());
    const resolved = await api("GET", `/api/v1/incidents/${incidentId}`, {
      token: f.apiKey,
    });
    expect(resolved.body.status).toBe("resolved");
    expect(tenantTypes()).toContain("incident.resolved");
    expect(rx.unverified).toEqual([]);
  });

  it("events of a VM the inventory learns later cross the threshold when it is learnt", async () => {
    setNow(50);
    const f = await fleet();
    const vmId = uid("vm");
    const evs = [1, 2, 3, 4].map((p) =>
      memoryEvent({
        hostId: f.hostId,
        vmId,
        gpa: gpaOf(p),
        time: at(45).toISOString(),
      }),
    );
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: evs,
          contentType: BATCH,
        })
      ).body.accepted,
    ).toBe(4);
    expect(
      (
        await api("GET", `/api/v1/admin/evacuations?vmId=${vmId}`, {
          token: f.op,
        })
      ).body.data,
    ).toEqual([]);
    const put = await api("PUT", `/api/v1/admin/vms/${vmId}`, {
      token: f.op,
      body: {
        projectId: f.projectId,
        name: "late-1",
        zone: "zone-a",
        hostId: f.hostId,
        placedAt: at(-3600).toISOString(),
      },
    });
    expect(put.status).toBe(200);
    const list = (
      await api("GET", `/api/v1/admin/evacuations?vmId=${vmId}`, {
        token: f.op,
      })
    ).body.data;
    expect(list).toEqual([
      expect.objectContaining({
        reason: "distinct_pages",
        distinctPages: 4,
        status: "scheduled",
      }),
    ]);
    const inc = (
      await api("GET", `/api/v1/incidents?vmId=${vmId}`, { token: f.apiKey })
    ).body.data[0];
    expect(inc).toMatchObject({
      status: "evacuating",
      evacuation: { id: list[0].id },
    });
  });

  it("guest-kernel consumption evacuates at once; a batch crossing the threshold makes one evacuation", async () => {
    setNow(40);
    const f = await fleet({ vms: 2 });
    const gk = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({
        hostId: f.hostId,
        vmId: f.vmIds[0]!,
        guestMode: "kernel",
        time: at(35).toISOString(),
      }),
      contentType: CE,
    });
    expect(gk.body.accepted).toBe(1);
    const batch = Array.from({ length: 6 }, (_, i) =>
      memoryEvent({
        hostId: f.hostId,
        vmId: f.vmIds[1]!,
        gpa: gpaOf(100 + i),
        time: at(35).toISOString(),
      }),
    );
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: batch,
          contentType: BATCH,
        })
      ).body.accepted,
    ).toBe(6);
    const list = await api(
      "GET",
      `/api/v1/admin/evacuations?hostId=${f.hostId}`,
      { token: f.op },
    );
    const byVm = Object.fromEntries(
      list.body.data.map(
        (e: { vmId: string; reason: string; distinctPages: number }) => [
          e.vmId,
          e,
        ],
      ),
    );
    expect(list.body.data).toHaveLength(2);
    expect(byVm[f.vmIds[0]!]).toMatchObject({
      reason: "guest_kernel",
      status: "scheduled",
    });
    expect(byVm[f.vmIds[1]!]).toMatchObject({
      reason: "distinct_pages",
      distinctPages: 6,
      status: "scheduled",
    });
  });

  it("a cancelled evacuation, by the operator or by deleting the VM, is called back as vm.evacuation_cancelled", async () => {
    setNow(40);
    const f = await fleet({ vms: 2 });
    const [vmA, vmB] = f.vmIds as [string, string];
    const evacuate = async (vmId: string) => {
      expect(
        (
          await api("POST", "/api/v1/events", {
            token: f.hostToken,
            body: memoryEvent({ hostId: f.hostId, vmId }),
            contentType: CE,
          })
        ).status,
      ).toBe(200);
      const r = await api("POST", `/api/v1/admin/vms/${vmId}/evacuate`, {
        token: f.op,
      });
      expect(r.status).toBe(202);
      return r.body.evacuationId as string;
    };
    const [a, b] = [await evacuate(vmA), await evacuate(vmB)];
    setNow(50);
    expect(
      (await api("DELETE", `/api/v1/admin/evacuations/${a}`, { token: f.op }))
        .status,
    ).toBe(200);
    expect(
      (await api("DELETE", `/api/v1/admin/vms/${vmB}`, { token: f.op })).status,
    ).toBe(204);
    await deliver();
    expect(rx.unverified).toEqual([]);
    const of = (vmId: string) =>
      rx
        .on(callbackPath)
        .filter((r) => r.payload.data.vmId === vmId)
        .map((r) => r.payload);
    for (const [vmId, evacuationId, reason] of [
      [vmA, a, "operator"],
      [vmB, b, "vm_deleted"],
    ] as const) {
      expect(
        of(vmId)
          .map((p) => p.type)
          .sort(),
      ).toEqual(["vm.evacuation_cancelled", "vm.evacuation_requested"]);
      expect(
        of(vmId).find((p) => p.type === "vm.evacuation_cancelled"),
      ).toEqual({
        type: "vm.evacuation_cancelled",
        timestamp: at(50).toISOString(),
        data: {
          evacuationId,
          vmId,
          projectId: f.projectId,
          tenantId: f.tenantId,
          hostId: f.hostId,
          reason,
          cancelledAt: at(50).toISOString(),
        },
      });
    }
  });
});
