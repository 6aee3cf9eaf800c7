import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { newId } from "@/db/ids";
import { memoryErrorEvents } from "@/db/schema";
import { api, fleet, operator, uid } from "../helpers/api";
import { gpaOf, memoryEvent } from "../helpers/events";

// Issue 11: a host writes only into VMs it ran, numbers out of range never cost a batch or the
// inventory, and a re-created VM id is a new VM.

const withData = (
  e: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> => ({
  ...e,
  data: { ...(e.data as Record<string, unknown>), ...patch },
});

describe("numbers out of range", () => {
  it("a vcpu past 4095 rejects that event alone; the rest of the batch is stored", async () => {
    const f = await fleet();
    const bad = withData(
      memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(1) }),
      { vcpu: 3_000_000_000 },
    );
    const edge = withData(
      memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(2) }),
      { vcpu: 4095 },
    );
    const over = withData(
      memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(3) }),
      { vcpu: 4096 },
    );
    const good = memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(4) });
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: [bad, edge, over, good],
      contentType: "application/cloudevents-batch+json",
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: { status: string }) => x.status)).toEqual([
      "rejected",
      "accepted",
      "rejected",
      "accepted",
    ]);
    for (const i of [0, 2]) {
      expect(r.body.results[i].error.code).toBe("invalid_request");
      expect(
        r.body.results[i].error.details.map((d: { path: string }) => d.path),
      ).toEqual(["data.vcpu"]);
    }
    const logs = await api("GET", `/api/v1/log-entries?vmId=${f.vmId}`, {
      token: f.apiKey,
    });
    expect(
      logs.body.data
        .map((e: { jsonPayload: { vcpu: number } }) => e.jsonPayload.vcpu)
        .sort(),
    ).toEqual([3, 4095]);

    const single = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: bad,
      contentType: "application/cloudevents+json",
    });
    expect(single.status).toBe(400);
    expect(single.body.error.code).toBe("invalid_request");
  });

  it("an unknown VM's stored event with an out-of-range number never makes a PUT of that VM fail", async () => {
    const f = await fleet();
    const op = await operator();
    const db = await getDb();
    const vmId = uid("vm");
    // as an earlier version accepted it: stored, uncorrelated, waiting for the inventory
    const raw = withData(
      memoryEvent({
        hostId: f.hostId,
        vmId,
        time: new Date(Date.now() - 60_000).toISOString(),
      }),
      { vcpu: 3_000_000_000 },
    );
    const good = memoryEvent({
      hostId: f.hostId,
      vmId,
      gpa: gpaOf(7),
      time: new Date(Date.now() - 30_000).toISOString(),
    });
    const stale = newId("evt");
    await db.insert(memoryErrorEvents).values({
      id: stale,
      hostId: f.hostId,
      sourceEventId: raw.id as string,
      vmId,
      uncorrelatedReason: "unknown_vm",
      eventTime: new Date(raw.time as string),
      receivedAt: new Date(),
      severity: "CRITICAL",
      consumed: true,
      guestKernel: false,
      pageKey: "0x00000001234f8000",
      mechanism: "kvm_exit_arm_sea",
      raw,
    });
    expect(
      (await api("POST", "/api/v1/events", { token: f.hostToken, body: good }))
        .body.accepted,
    ).toBe(1);
    const body = {
      projectId: f.projectId,
      name: "late",
      zone: "zone-a",
      hostId: f.hostId,
      placedAt: new Date(Date.now() - 3600_000).toISOString(),
    };
    for (let i = 0; i < 2; i++) {
      const put = await api("PUT", `/api/v1/admin/vms/${vmId}`, {
        token: op,
        body: { ...body, name: `late-${i}` },
      });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
    }
    // the good event is bound; the bad one stays for the operator to see
    const logs = await api("GET", `/api/v1/log-entries?vmId=${vmId}`, {
      token: f.apiKey,
    });
    expect(logs.body.data).toHaveLength(1);
    const [row] = await rawRows<{ uncorrelated_reason: string | null }>(
      db,
      sql`select uncorrelated_reason from memory_error_events where id = ${stale}`,
    );
    expect(row!.uncorrelated_reason).toBe("unknown_vm");
  });
});

const minutesAgo = (m: number) =>
  new Date(Date.now() - m * 60_000).toISOString();

// A second host with its own token, beside a fleet's.
async function otherHost() {
  const op = await operator();
  const hostId = uid("h");
  await api("PUT", `/api/v1/admin/hosts/${hostId}`, {
    token: op,
    body: { zone: "zone-a" },
  });
  const token = (
    await api("POST", `/api/v1/admin/hosts/${hostId}/tokens`, { token: op })
  ).body.token as string;
  return { hostId, token };
}

async function mismatchedOf(vmId: string) {
  const op = await operator();
  const r = await api(
    "GET",
    "/api/v1/admin/events?reason=host_mismatch&limit=500",
    { token: op },
  );
  return r.body.data.filter((e: { vmId: string }) => e.vmId === vmId) as {
    hostId: string;
    event: { id: string };
  }[];
}

describe("a host writes only into VMs it ran", () => {
  it("a backdated event before the VM's first placement, from a host that never ran it, is host_mismatch and cannot schedule an evacuation", async () => {
    const op = await operator();
    const victim = await fleet();
    const attacker = await otherHost();
    const vmId = uid("vm");
    await api("PUT", `/api/v1/admin/vms/${vmId}`, {
      token: op,
      body: {
        projectId: victim.projectId,
        name: "db-1",
        zone: "zone-a",
        hostId: victim.hostId,
        placedAt: minutesAgo(60),
      },
    });
    // policy default: 4 distinct pages evacuate; a guest-kernel consumption evacuates at once
    const forged = [1, 2, 3, 4, 5].map((p) =>
      memoryEvent({
        hostId: attacker.hostId,
        vmId,
        gpa: gpaOf(p),
        guestMode: p === 5 ? "kernel" : "user",
        time: minutesAgo(60 + p),
      }),
    );
    const r = await api("POST", "/api/v1/events", {
      token: attacker.token,
      body: forged,
      contentType: "application/cloudevents-batch+json",
    });
    expect(r.body.accepted).toBe(5);
    expect(
      (
        await api("GET", `/api/v1/log-entries?vmId=${vmId}`, {
          token: victim.apiKey,
        })
      ).body.data,
    ).toEqual([]);
    expect(
      (
        await api("GET", `/api/v1/incidents?vmId=${vmId}`, {
          token: victim.apiKey,
        })
      ).body.data,
    ).toEqual([]);
    expect(
      (
        await api("GET", `/api/v1/admin/evacuations?vmId=${vmId}`, {
          token: op,
        })
      ).body.data,
    ).toEqual([]);
    expect((await mismatchedOf(vmId)).map((e) => e.hostId)).toEqual(
      Array(5).fill(attacker.hostId),
    );

    // the host that ran the VM next may report an error from just before the inventory recorded it
    const own = await api("POST", "/api/v1/events", {
      token: victim.hostToken,
      body: memoryEvent({ hostId: victim.hostId, vmId, time: minutesAgo(61) }),
    });
    expect(own.body.accepted).toBe(1);
    expect(
      (
        await api("GET", `/api/v1/log-entries?vmId=${vmId}`, {
          token: victim.apiKey,
        })
      ).body.data,
    ).toHaveLength(1);
  });

  it("pre-inventory events from a host that does not run the VM become host_mismatch when the inventory learns it; the right host's are bound", async () => {
    const op = await operator();
    const victim = await fleet();
    const attacker = await otherHost();
    const vmId = uid("vm");
    const forged = [1, 2, 3, 4, 5].map((p) =>
      memoryEvent({
        hostId: attacker.hostId,
        vmId,
        gpa: gpaOf(p),
        time: minutesAgo(10 + p),
      }),
    );
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: attacker.token,
          body: forged,
        })
      ).body.accepted,
    ).toBe(5);
    const own = memoryEvent({
      hostId: victim.hostId,
      vmId,
      gpa: gpaOf(9),
      time: minutesAgo(3),
    });
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: victim.hostToken,
          body: own,
        })
      ).body.accepted,
    ).toBe(1);
    const unknown = await api(
      "GET",
      `/api/v1/admin/events?reason=unknown_vm&limit=500`,
      { token: op },
    );
    expect(
      unknown.body.data.filter((e: { vmId: string }) => e.vmId === vmId),
    ).toHaveLength(6);

    // the control plane learns the VM, placed now on the victim's host
    const put = await api("PUT", `/api/v1/admin/vms/${vmId}`, {
      token: op,
      body: {
        projectId: victim.projectId,
        name: "late-1",
        zone: "zone-a",
        hostId: victim.hostId,
      },
    });
    expect(put.status).toBe(200);
    const logs = await api("GET", `/api/v1/log-entries?vmId=${vmId}`, {
      token: victim.apiKey,
    });
    expect(
      logs.body.data.map((e: { timestamp: string }) => e.timestamp),
    ).toEqual([new Date(own.time as string).toISOString()]);
    expect((await mismatchedOf(vmId)).map((e) => e.event.id).sort()).toEqual(
      forged.map((e) => e.id as string).sort(),
    );
    expect(
      (
        await api("GET", `/api/v1/admin/evacuations?vmId=${vmId}`, {
          token: op,
        })
      ).body.data,
    ).toEqual([]);
    const [inc] = (
      await api("GET", `/api/v1/incidents?vmId=${vmId}`, {
        token: victim.apiKey,
      })
    ).body.data;
    expect(inc).toMatchObject({ errorCount: 1, distinctPages: 1 });
  });

  it("where no placement covers the time, the next placement answers, or else the last one before", async () => {
    const op = await operator();
    const f = await fleet();
    const h2 = await otherHost();
    const vmId = uid("vm");
    const put = (hostId: string | null, placedAt: string) =>
      api("PUT", `/api/v1/admin/vms/${vmId}`, {
        token: op,
        body: {
          projectId: f.projectId,
          name: "web-9",
          zone: "zone-a",
          hostId,
          placedAt,
        },
      });
    // on host 1 from 120 min ago, stopped at 90, on host 2 from 60, stopped at 30
    expect((await put(f.hostId, minutesAgo(120))).status).toBe(200);
    expect((await put(null, minutesAgo(90))).status).toBe(200);
    expect((await put(h2.hostId, minutesAgo(60))).status).toBe(200);
    expect((await put(null, minutesAgo(30))).status).toBe(200);
    const h1 = { hostId: f.hostId, token: f.hostToken };
    const cases: [typeof h1, number, boolean][] = [
      [h1, 130, true], // before the first placement: the next one (host 1) answers
      [h2, 130, false],
      [h1, 100, true], // covered by host 1
      [h2, 100, false],
      [h1, 75, false], // stopped between the two: the next placement (host 2) answers
      [h2, 75, true],
      [h2, 45, true], // covered by host 2
      [h1, 45, false],
      [h2, 10, true], // stopped at the end: the last placement (host 2) answers
      [h1, 10, false],
    ];
    const ids: string[] = [];
    for (const [i, [host, minutes]] of cases.entries()) {
      const ev = memoryEvent({
        hostId: host.hostId,
        vmId,
        gpa: gpaOf(i + 1),
        time: minutesAgo(minutes),
      });
      ids.push(ev.id as string);
      expect(
        (await api("POST", "/api/v1/events", { token: host.token, body: ev }))
          .body.accepted,
      ).toBe(1);
    }
    const mismatched = new Set(
      (await mismatchedOf(vmId)).map((e) => e.event.id),
    );
    expect(
      cases.map(([host, minutes], i) => [
        host === h1 ? "host 1" : "host 2",
        minutes,
        !mismatched.has(ids[i]!),
      ]),
    ).toEqual(
      cases.map(([host, minutes, ok]) => [
        host === h1 ? "host 1" : "host 2",
        minutes,
        ok,
      ]),
    );
    const logs = await api(
      "GET",
      `/api/v1/log-entries?vmId=${vmId}&limit=500`,
      { token: f.apiKey },
    );
    expect(logs.body.data).toHaveLength(cases.filter((c) => c[2]).length);
  });

  it("an event more than 7 days old is rejected; one just inside is stored", async () => {
    const f = await fleet();
    const old = memoryEvent({
      hostId: f.hostId,
      vmId: f.vmId,
      time: minutesAgo(7 * 1440 + 1),
    });
    const inside = memoryEvent({
      hostId: f.hostId,
      vmId: f.vmId,
      time: minutesAgo(7 * 1440 - 1),
    });
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: [old, inside],
      contentType: "application/cloudevents-batch+json",
    });
    expect(r.body.results.map((x: { status: string }) => x.status)).toEqual([
      "rejected",
      "accepted",
    ]);
    expect(r.body.results[0].error).toMatchObject({
      code: "invalid_request",
      details: [{ path: "time" }],
    });
    expect(r.body.results[0].error.message).toMatch(/7 days/);
    const single = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: { ...old, id: "again" },
      contentType: "application/cloudevents+json",
    });
    expect(single.status).toBe(400);
    expect(single.body.error.code).toBe("invalid_request");
  });
});
