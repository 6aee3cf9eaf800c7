import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stopBoss } from "@/server/jobs/boss";
import { api, fleet, operator, uid } from "../helpers/api";
import { gpaOf, memoryEvent } from "../helpers/events";

const BATCH = "application/cloudevents-batch+json";

// This file's database has a policy where only the host thresholds act (VM pages 100, no guest-kernel rule).
beforeAll(async () => {
  const r = await api("PUT", "/api/v1/admin/policy", {
    token: await operator(),
    body: { vmPages: 100, evacuateOnGuestKernel: false },
  });
  expect(r.status).toBe(200);
});
afterAll(async () => {
  await stopBoss();
});

type Fleet = Awaited<ReturnType<typeof fleet>>;

let page = 0;
// n new distinct pages, spread over the given VMs, in one batch
async function pages(
  f: Fleet,
  vmIds: string[],
  n: number,
  extra: Record<string, unknown> = {},
) {
  const evs = Array.from({ length: n }, (_, i) =>
    memoryEvent({
      hostId: f.hostId,
      vmId: vmIds[i % vmIds.length]!,
      gpa: gpaOf(++page),
      ...extra,
    }),
  );
  const r = await api("POST", "/api/v1/events", {
    token: f.hostToken,
    body: evs,
    contentType: BATCH,
  });
  expect(r.body.accepted).toBe(n);
}

const health = async (f: Fleet) =>
  (await api("GET", `/api/v1/admin/hosts/${f.hostId}/health`, { token: f.op }))
    .body;
const evacs = async (f: Fleet) =>
  (
    await api("GET", `/api/v1/admin/evacuations?hostId=${f.hostId}&limit=500`, {
      token: f.op,
    })
  ).body.data;

describe("host health and host evacuation", () => {
  it("healthy → degraded → evacuate by distinct (VM, page) pairs; evacuate moves every running VM, and one placed there later", async () => {
    const f = await fleet({ vms: 4 });
    const [a, b, c, d] = f.vmIds as [string, string, string, string];
    await api("PUT", `/api/v1/admin/vms/${d}`, {
      token: f.op,
      body: {
        projectId: f.projectId,
        name: "web-4",
        zone: "zone-a",
        hostId: null,
      },
    });

    expect(await health(f)).toEqual({
      hostId: f.hostId,
      state: "healthy",
      distinctPages: 0,
      affectedVmIds: [],
      windowSeconds: 86400,
    });
    await pages(f, [a, b], 7);
    // the same address in another VM is another pair; a repeat is not
    const same = gpaOf(page);
    await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: [
        memoryEvent({ hostId: f.hostId, vmId: b, gpa: same }),
        memoryEvent({ hostId: f.hostId, vmId: a, gpa: same }),
      ],
      contentType: BATCH,
    });
    const h8 = await health(f);
    expect(h8).toMatchObject({
      state: "degraded",
      distinctPages: 8,
      affectedVmIds: [a, b].sort(),
    });
    const degraded = await api(
      "GET",
      "/api/v1/admin/hosts?state=degraded&limit=500",
      { token: f.op },
    );
    expect(
      degraded.body.data.find((h: { id: string }) => h.id === f.hostId),
    ).toMatchObject({ state: "degraded", distinctPages: 8, runningVms: 3 });
    expect(await evacs(f)).toEqual([]);

    await pages(f, [a, b], 7);
    expect((await health(f)).state).toBe("degraded");
    await pages(f, [b], 1);
    const h16 = await health(f);
    expect(h16).toMatchObject({ state: "evacuate", distinctPages: 16 });
    const list = await evacs(f);
    expect(list.map((e: { vmId: string }) => e.vmId).sort()).toEqual(
      [a, b, c].sort(),
    );
    for (const e of list)
      expect(e).toMatchObject({
        reason: "host_evacuate",
        distinctPages: 16,
        status: "scheduled",
        requestedBy: "policy",
      });
    // c had no error: no incident, but its tenant is told through the VM's memory health
    const vmC = await api("GET", `/api/v1/vms/${c}`, { token: f.apiKey });
    expect(vmC.body.memoryHealth.evacuation).toMatchObject({
      status: "scheduled",
    });
    expect(
      (await api("GET", `/api/v1/incidents?vmId=${c}`, { token: f.apiKey }))
        .body.data,
    ).toEqual([]);
    const incA = (
      await api("GET", `/api/v1/incidents?vmId=${a}`, { token: f.apiKey })
    ).body.data[0];
    expect(incA.status).toBe("evacuating");
    const detail = await api("GET", `/api/v1/incidents/${incA.id}`, {
      token: f.apiKey,
    });
    expect(JSON.stringify(detail.body)).not.toContain(f.hostId);

    // more errors: no second evacuation for anyone
    await pages(f, [a], 2);
    expect(await evacs(f)).toHaveLength(3);

    // a VM placed on the failing host is evacuated too; the stopped one is not until it starts there
    const e = uid("vm");
    await api("PUT", `/api/v1/admin/vms/${e}`, {
      token: f.op,
      body: {
        projectId: f.projectId,
        name: "web-5",
        zone: "zone-a",
        hostId: f.hostId,
      },
    });
    expect((await evacs(f)).map((x: { vmId: string }) => x.vmId)).toContain(e);
    expect((await evacs(f)).map((x: { vmId: string }) => x.vmId)).not.toContain(
      d,
    );
    await api("PUT", `/api/v1/admin/vms/${d}`, {
      token: f.op,
      body: {
        projectId: f.projectId,
        name: "web-4",
        zone: "zone-a",
        hostId: f.hostId,
      },
    });
    expect((await evacs(f)).map((x: { vmId: string }) => x.vmId)).toContain(d);

    const fleetList = await api(
      "GET",
      "/api/v1/admin/hosts?state=evacuate&limit=500",
      { token: f.op },
    );
    expect(
      fleetList.body.data.find((h: { id: string }) => h.id === f.hostId),
    ).toMatchObject({ activeEvacuations: 5, pressure: 1 });
  });

  it("host counts are per host: the same VM's pages on a previous host do not count on the new one", async () => {
    const f = await fleet({ vms: 1 });
    await pages(f, [f.vmId], 9);
    expect((await health(f)).state).toBe("degraded");
    const host2 = uid("h");
    await api("PUT", `/api/v1/admin/hosts/${host2}`, {
      token: f.op,
      body: { zone: "zone-a" },
    });
    await api("PUT", `/api/v1/admin/vms/${f.vmId}`, {
      token: f.op,
      body: {
        projectId: f.projectId,
        name: "web-1",
        zone: "zone-a",
        hostId: host2,
      },
    });
    expect(
      (await api("GET", `/api/v1/admin/hosts/${host2}/health`, { token: f.op }))
        .body,
    ).toMatchObject({ state: "healthy", distinctPages: 0 });
    expect((await health(f)).state).toBe("degraded");
    expect(
      (
        await api("GET", `/api/v1/admin/hosts/${uid("h")}/health`, {
          token: f.op,
        })
      ).status,
    ).toBe(404);
  });
});

describe("policy preview", () => {
  it("shows what a change would do now, and changes nothing", async () => {
    const f = await fleet({ vms: 3 });
    const [a, b, c] = f.vmIds as [string, string, string];
    await pages(f, [a], 3);
    await pages(f, [b], 2, { guestMode: "kernel" });
    const p = await api("POST", "/api/v1/admin/policy/preview", {
      token: f.op,
      body: {
        vmPages: 3,
        evacuateOnGuestKernel: true,
        hostDegradedPages: 4,
        hostEvacuatePages: 5,
      },
    });
    expect(p.status).toBe(200);
    expect(p.body.current).toMatchObject({
      vmPages: 100,
      hostEvacuatePages: 16,
    });
    expect(p.body.candidate).toMatchObject({
      vmPages: 3,
      hostEvacuatePages: 5,
    });
    const mine = p.body.wouldEvacuate.items.filter(
      (i: { hostId: string }) => i.hostId === f.hostId,
    );
    const reasonOf = Object.fromEntries(
      mine.map((i: { vmId: string; reason: string }) => [i.vmId, i.reason]),
    );
    expect(reasonOf).toEqual({
      [a]: "distinct_pages",
      [b]: "guest_kernel",
      [c]: "host_evacuate",
    });
    expect(
      mine.every(
        (i: { alsoUnderCurrent: boolean; tenantId: string }) =>
          !i.alsoUnderCurrent && i.tenantId === f.tenantId,
      ),
    ).toBe(true);
    expect(p.body.hostChanges.items).toContainEqual({
      hostId: f.hostId,
      from: "healthy",
      to: "evacuate",
      distinctPages: 5,
    });
    expect(p.body.hosts.candidate.evacuate).toBeGreaterThanOrEqual(1);
    expect(
      p.body.hosts.current.healthy +
        p.body.hosts.current.degraded +
        p.body.hosts.current.evacuate,
    ).toBe(
      p.body.hosts.candidate.healthy +
        p.body.hosts.candidate.degraded +
        p.body.hosts.candidate.evacuate,
    );
    expect(await evacs(f)).toEqual([]);
    expect(
      (await api("GET", "/api/v1/admin/policy", { token: f.op })).body.vmPages,
    ).toBe(100);
    const bad = await api("POST", "/api/v1/admin/policy/preview", {
      token: f.op,
      body: { hostDegradedPages: 10, hostEvacuatePages: 5 },
    });
    expect(bad.status).toBe(400);
    expect(
      (
        await api("POST", "/api/v1/admin/policy/preview", {
          token: f.op,
          body: { vmPages: 0 },
        })
      ).status,
    ).toBe(400);
  });
});

describe("metrics", () => {
  it("renders Prometheus text with ingest counters, fleet health, backlog and queue depth", async () => {
    const f = await fleet();
    await pages(f, [f.vmId], 1);
    const r = await api("GET", "/api/v1/admin/metrics", { token: f.op });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = r.body as string;
    for (const name of [
      "poisonwatch_ingest_events_total",
      'poisonwatch_hosts{state="healthy"}',
      'poisonwatch_hosts{state="evacuate"}',
      'poisonwatch_incidents_unresolved{status="open"}',
      'poisonwatch_evacuations_active{status="scheduled"}',
      'poisonwatch_webhook_deliveries_pending{kind="callback"}',
      "poisonwatch_emails_queued",
      'poisonwatch_uncorrelated_events_24h{reason="unknown_vm"}',
      "poisonwatch_ingest_events_per_minute",
      'poisonwatch_queue_depth{queue="webhook"}',
    ]) {
      expect(text, name).toContain(name);
    }
    // every sample line is "name{labels} number" (a blank line may part the families)
    for (const line of text.trim().split("\n")) {
      if (line && !line.startsWith("#"))
        expect(line).toMatch(
          /^[a-z_][a-z0-9_]*(\{[^}]*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|[+-]Inf|NaN)$/,
        );
    }
  });
});
