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

const withData = (e: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> => ({
  ...e,
  data: { ...(e.data as Record<string, unknown>), ...patch },
});

describe("numbers out of range", () => {
  it("a vcpu past 4095 rejects that event alone; the rest of the batch is stored", async () => {
    const f = await fleet();
    const bad = withData(memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(1) }), { vcpu: 3_000_000_000 });
    const edge = withData(memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(2) }), { vcpu: 4095 });
    const over = withData(memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(3) }), { vcpu: 4096 });
    const good = memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(4) });
    const r = await api("POST", "/api/v1/events", { token: f.hostToken, body: [bad, edge, over, good], contentType: "application/cloudevents-batch+json" });
    expect(r.status).toBe(200);
    expect(r.body.results.map((x: { status: string }) => x.status)).toEqual(["rejected", "accepted", "rejected", "accepted"]);
    for (const i of [0, 2]) {
      expect(r.body.results[i].error.code).toBe("invalid_request");
      expect(r.body.results[i].error.details.map((d: { path: string }) => d.path)).toEqual(["data.vcpu"]);
    }
    const logs = await api("GET", `/api/v1/log-entries?vmId=${f.vmId}`, { token: f.apiKey });
    expect(logs.body.data.map((e: { jsonPayload: { vcpu: number } }) => e.jsonPayload.vcpu).sort()).toEqual([3, 4095]);

    const single = await api("POST", "/api/v1/events", { token: f.hostToken, body: bad, contentType: "application/cloudevents+json" });
    expect(single.status).toBe(400);
    expect(single.body.error.code).toBe("invalid_request");
  });

  it("an unknown VM's stored event with an out-of-range number never makes a PUT of that VM fail", async () => {
    const f = await fleet();
    const op = await operator();
    const db = await getDb();
    const vmId = uid("vm");
    // as an earlier version accepted it: stored, uncorrelated, waiting for the inventory
    const raw = withData(memoryEvent({ hostId: f.hostId, vmId, time: new Date(Date.now() - 60_000).toISOString() }), { vcpu: 3_000_000_000 });
    const good = memoryEvent({ hostId: f.hostId, vmId, gpa: gpaOf(7), time: new Date(Date.now() - 30_000).toISOString() });
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
    expect((await api("POST", "/api/v1/events", { token: f.hostToken, body: good })).body.accepted).toBe(1);
    const body = { projectId: f.projectId, name: "late", zone: "zone-a", hostId: f.hostId, placedAt: new Date(Date.now() - 3600_000).toISOString() };
    for (let i = 0; i < 2; i++) {
      const put = await api("PUT", `/api/v1/admin/vms/${vmId}`, { token: op, body: { ...body, name: `late-${i}` } });
      expect(put.status, JSON.stringify(put.body)).toBe(200);
    }
    // the good event is bound; the bad one stays for the operator to see
    const logs = await api("GET", `/api/v1/log-entries?vmId=${vmId}`, { token: f.apiKey });
    expect(logs.body.data).toHaveLength(1);
    const [row] = await rawRows<{ uncorrelated_reason: string | null }>(db, sql`select uncorrelated_reason from memory_error_events where id = ${stale}`);
    expect(row!.uncorrelated_reason).toBe("unknown_vm");
  });
});

