import { sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { stopBoss } from "@/server/jobs/boss";
import { runMaintenance } from "@/server/maintenance";
import { api, fleet, uid } from "../helpers/api";
import { gpaOf, memoryEvent } from "../helpers/events";

// Races that matter on a PostgreSQL server (PGlite runs them one after another).

const BATCH = "application/cloudevents-batch+json";

afterAll(async () => {
  await stopBoss();
});

async function activeByVm(hostId: string) {
  return rawRows<{ vm_id: string; n: number }>(
    await getDb(),
    sql`select vm_id, count(*)::int as n from evacuations where host_id = ${hostId} and status in ('scheduled', 'in_progress') group by vm_id`,
  );
}

describe("concurrent evaluation", () => {
  it("concurrent batches pushing a host past evacuate: every answer 200, at most one active evacuation per VM, all VMs once settled", async () => {
    const f = await fleet({ vms: 6 });
    let page = 0;
    const batches = Array.from({ length: 8 }, (_, i) =>
      Array.from({ length: 3 }, () =>
        memoryEvent({
          hostId: f.hostId,
          vmId: f.vmIds[i % 6]!,
          gpa: gpaOf(++page),
        }),
      ),
    );
    const answers = await Promise.all(
      batches.map((b) =>
        api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: b,
          contentType: BATCH,
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(answers.reduce((n, a) => n + a.body.accepted, 0)).toBe(24);
    for (const r of await activeByVm(f.hostId)) expect(r.n).toBe(1);
    // one more error on the host settles any VM a concurrent transaction had to leave to the next evaluation
    await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: [
        memoryEvent({
          hostId: f.hostId,
          vmId: f.vmIds[0]!,
          gpa: gpaOf(++page),
        }),
      ],
      contentType: BATCH,
    });
    const settled = await activeByVm(f.hostId);
    expect(settled.map((r) => r.vm_id).sort()).toEqual([...f.vmIds].sort());
    expect(settled.every((r) => r.n === 1)).toBe(true);
  });

  it("operator requests racing each other and ingestion answer one evacuation", async () => {
    const f = await fleet();
    const calls = [
      ...Array.from({ length: 5 }, () =>
        api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, { token: f.op }),
      ),
      api("POST", "/api/v1/events", {
        token: f.hostToken,
        body: Array.from({ length: 5 }, (_, i) =>
          memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(500 + i) }),
        ),
        contentType: BATCH,
      }),
    ];
    const answers = await Promise.all(calls);
    const evacAnswers = answers.slice(0, 5);
    expect(evacAnswers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(answers[5]!.status).toBe(200);
    const ids = new Set(evacAnswers.map((a) => a.body.evacuationId));
    expect(ids.size).toBe(1);
    expect(await activeByVm(f.hostId)).toEqual([{ vm_id: f.vmId, n: 1 }]);
    const inc = (
      await api("GET", `/api/v1/incidents?vmId=${f.vmId}`, { token: f.apiKey })
    ).body.data[0];
    expect(inc).toMatchObject({
      status: "evacuating",
      evacuation: { id: [...ids][0] },
    });
  });

  it("a move racing new errors completes the evacuation exactly once", async () => {
    const f = await fleet();
    const host2 = uid("h");
    await api("PUT", `/api/v1/admin/hosts/${host2}`, {
      token: f.op,
      body: { zone: "zone-a" },
    });
    const e = await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
      token: f.op,
    });
    const [moved, ingested] = await Promise.all([
      api("PUT", `/api/v1/admin/vms/${f.vmId}`, {
        token: f.op,
        body: {
          projectId: f.projectId,
          name: "web-1",
          zone: "zone-a",
          hostId: host2,
        },
      }),
      api("POST", "/api/v1/events", {
        token: f.hostToken,
        body: [
          memoryEvent({
            hostId: f.hostId,
            vmId: f.vmId,
            gpa: gpaOf(900),
            time: new Date(Date.now() - 60_000).toISOString(),
          }),
        ],
        contentType: BATCH,
      }),
    ]);
    expect(moved.status).toBe(200);
    expect(ingested.status).toBe(200);
    const list = (
      await api("GET", `/api/v1/admin/evacuations?vmId=${f.vmId}`, {
        token: f.op,
      })
    ).body.data;
    expect(list).toEqual([
      expect.objectContaining({ id: e.body.evacuationId, status: "completed" }),
    ]);
    const inc = (
      await api("GET", `/api/v1/incidents?vmId=${f.vmId}`, { token: f.apiKey })
    ).body.data[0];
    expect(inc.status).toBe("open");
  });

  it("the maintenance tick heals what racing transactions leave: an evacuation without its incident, an incident evacuating without one", async () => {
    const db = await getDb();
    const a = await fleet();
    const b = await fleet();
    for (const f of [a, b])
      await api("POST", "/api/v1/events", {
        token: f.hostToken,
        body: [memoryEvent({ hostId: f.hostId, vmId: f.vmId })],
        contentType: BATCH,
      });
    const e = await api("POST", `/api/v1/admin/vms/${a.vmId}/evacuate`, {
      token: a.op,
    });
    // as if the evacuation had been decided by a transaction that could not see the incident
    await db.execute(
      sql`update evacuations set incident_id = null where id = ${e.body.evacuationId}`,
    );
    await db.execute(
      sql`update incidents set status = 'open' where vm_id = ${a.vmId}`,
    );
    // and as if a completion had missed the incident opened meanwhile
    await db.execute(
      sql`update incidents set status = 'evacuating' where vm_id = ${b.vmId}`,
    );
    await runMaintenance(db, new Date());
    const incA = (
      await api("GET", `/api/v1/incidents?vmId=${a.vmId}`, { token: a.apiKey })
    ).body.data[0];
    expect(incA).toMatchObject({
      status: "evacuating",
      evacuation: { id: e.body.evacuationId, status: "scheduled" },
    });
    const incB = (
      await api("GET", `/api/v1/incidents?vmId=${b.vmId}`, { token: b.apiKey })
    ).body.data[0];
    expect(incB.status).toBe("open");
  });
});
