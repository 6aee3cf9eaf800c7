import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { ingestRateLimiter } from "@/server/http/routes/ingest";
import { api, fleet, operator, uid } from "../helpers/api";
import { gpaOf, memoryEvent } from "../helpers/events";

const CE = "application/cloudevents+json";
const BATCH = "application/cloudevents-batch+json";

async function count(table: string, where = sql`true`) {
  const rows = await rawRows<{ n: number }>(
    await getDb(),
    sql`select count(*)::int as n from ${sql.raw(table)} where ${where}`,
  );
  return rows[0]!.n;
}

describe("POST /api/v1/events", () => {
  it("accepts a single event and writes a decoded critical log entry and an incident", async () => {
    const f = await fleet();
    const ev = memoryEvent({ hostId: f.hostId, vmId: f.vmId });
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: ev,
      contentType: CE,
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: 0,
      results: [{ id: ev.id, status: "accepted" }],
    });
    const logs = await api("GET", "/api/v1/log-entries", { token: f.apiKey });
    expect(logs.status).toBe(200);
    expect(logs.body.data).toHaveLength(1);
    const entry = logs.body.data[0];
    expect(entry).toMatchObject({
      severity: "CRITICAL",
      logName: `projects/${f.projectId}/logs/memory_errors`,
      resource: {
        type: "vm_instance",
        labels: { projectId: f.projectId, vmId: f.vmId, zone: "zone-a" },
      },
      playbook: "user-process-memory-error",
      jsonPayload: {
        arch: "arm64",
        vcpu: 3,
        guestMode: "user",
        mechanism: "kvm_exit_arm_sea",
        gpa: "0x00000001234f8000",
        gva: "0x0000ffff9a2b3c40",
        pageSize: 4096,
        esr: {
          value: "0x0000000092000010",
          ec: "0x24",
          ecName: "DABT (lower EL)",
          il: 32,
          fsc: "0x10",
          fscName: "synchronous external abort",
          fnv: 0,
          ea: 0,
        },
      },
    });
    expect(entry.insertId).toMatch(/^log_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(entry.incidentId).toMatch(/^inc_/);
    expect(entry.jsonPayload.eventId).toMatch(/^evt_/);
    expect(entry.jsonPayload.message).toContain("web-1");
    expect(JSON.stringify(entry)).not.toContain(f.hostId);
    const inc = await api("GET", `/api/v1/incidents/${entry.incidentId}`, {
      token: f.apiKey,
    });
    expect(inc.status).toBe(200);
    expect(inc.body).toMatchObject({
      status: "open",
      severity: "CRITICAL",
      vmId: f.vmId,
      vmName: "web-1",
      errorCount: 1,
      distinctPages: 1,
      evacuation: null,
    });
    expect(inc.body.timeline[0].kind).toBe("opened");
    expect(JSON.stringify(inc.body)).not.toContain(f.hostId);
  });

  it("takes application/json as either form, and rejects a mismatched form with 400", async () => {
    const f = await fleet();
    const one = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
    });
    expect(one.body.accepted).toBe(1);
    const many = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: [
        memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
        memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
      ],
    });
    expect(many.body.accepted).toBe(2);
    const arrInSingle = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: [memoryEvent({ hostId: f.hostId, vmId: f.vmId })],
      contentType: CE,
    });
    expect(arrInSingle.status).toBe(400);
    const objInBatch = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
      contentType: BATCH,
    });
    expect(objInBatch.status).toBe(400);
  });

  it("answers every whole-request status", async () => {
    const f = await fleet();
    const ev = memoryEvent({ hostId: f.hostId, vmId: f.vmId });
    expect(
      (await api("POST", "/api/v1/events", { body: ev, contentType: CE }))
        .status,
    ).toBe(401);
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: "pwh_unknown",
          body: ev,
          contentType: CE,
        })
      ).status,
    ).toBe(401);
    const media = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      rawBody: JSON.stringify(ev),
      contentType: "text/plain",
    });
    expect(media.status).toBe(415);
    expect(media.body.error.code).toBe("unsupported_media_type");
    const junk = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      rawBody: "{oops",
      contentType: CE,
    });
    expect(junk.status).toBe(400);
    const notCe = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: { hello: "world" },
      contentType: CE,
    });
    expect(notCe.status).toBe(400);
    expect(notCe.body.error.details.length).toBeGreaterThan(0);
    const scalar = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      rawBody: "42",
      contentType: "application/json",
    });
    expect(scalar.status).toBe(400);
    const tooMany = Array.from({ length: 1001 }, () => ({}));
    expect(
      (
        await api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: tooMany,
          contentType: BATCH,
        })
      ).status,
    ).toBe(413);
    const big = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      rawBody: JSON.stringify([{ pad: "x".repeat(1024 * 1024) }]),
      contentType: BATCH,
    });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("payload_too_large");
    const other = await fleet();
    const foreign = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({ hostId: other.hostId, vmId: other.vmId }),
      contentType: CE,
    });
    expect(foreign.status).toBe(403);
    const future = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({
        hostId: f.hostId,
        vmId: f.vmId,
        time: new Date(Date.now() + 10 * 60_000).toISOString(),
      }),
      contentType: CE,
    });
    expect(future.status).toBe(400);
    expect(
      future.body.error.details.map((d: { path: string }) => d.path),
    ).toContain("time");
    const nul = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({ hostId: f.hostId, vmId: f.vmId, id: "a\u0000b" }),
      contentType: CE,
    });
    expect(nul.status).toBe(400);
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    const nested = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: { ...memoryEvent({ hostId: f.hostId, vmId: f.vmId }), ext: deep },
      contentType: CE,
    });
    expect(nested.status).toBe(400);
    expect(nested.body.error.message).toContain("nested deeper");
    expect(await count("memory_error_events", sql`host_id = ${f.hostId}`)).toBe(
      0,
    );
  });

  it("a batch stores the good events and rejects each bad one with its reason, in input order", async () => {
    const f = await fleet();
    const other = await fleet();
    const good1 = memoryEvent({ hostId: f.hostId, vmId: f.vmId });
    const bad = {
      ...memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
      type: "something.else",
    };
    const foreign = memoryEvent({ hostId: other.hostId, vmId: other.vmId });
    const good2 = memoryEvent({
      hostId: f.hostId,
      vmId: f.vmId,
      mechanism: "sigbus",
    });
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: [good1, bad, foreign, "nope", good2],
      contentType: BATCH,
    });
    expect(r.status).toBe(200);
    expect(r.body.accepted).toBe(2);
    expect(r.body.rejected).toBe(3);
    expect(r.body.results.map((x: { status: string }) => x.status)).toEqual([
      "accepted",
      "rejected",
      "rejected",
      "rejected",
      "accepted",
    ]);
    expect(r.body.results[1].error.code).toBe("invalid_request");
    expect(r.body.results[2].error.code).toBe("forbidden");
    expect(r.body.results[3].id).toBeNull();
    expect(await count("memory_error_events", sql`host_id = ${f.hostId}`)).toBe(
      2,
    );
  });

  it("a repeated id is a duplicate that changes nothing: within a batch, across requests, concurrently", async () => {
    const f = await fleet();
    const ev = memoryEvent({ hostId: f.hostId, vmId: f.vmId });
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: [ev, ev],
      contentType: BATCH,
    });
    expect(r.body.results.map((x: { status: string }) => x.status)).toEqual([
      "accepted",
      "duplicate",
    ]);
    const again = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: ev,
      contentType: CE,
    });
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 1 });
    const ev2 = memoryEvent({ hostId: f.hostId, vmId: f.vmId, gpa: gpaOf(7) });
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: ev2,
          contentType: CE,
        }),
      ),
    );
    expect(answers.filter((a) => a.body.accepted === 1)).toHaveLength(1);
    expect(answers.filter((a) => a.body.duplicates === 1)).toHaveLength(5);
    expect(await count("memory_error_events", sql`host_id = ${f.hostId}`)).toBe(
      2,
    );
    expect(await count("log_entries", sql`tenant_id = ${f.tenantId}`)).toBe(2);
    const inc = await api("GET", "/api/v1/incidents", { token: f.apiKey });
    expect(inc.body.data).toHaveLength(1);
    expect(inc.body.data[0]).toMatchObject({ errorCount: 2, distinctPages: 2 });
  });

  it("concurrent requests of two tenants' hosts, written in shared transactions, each get their own answer and only their own data", async () => {
    const [a, b] = [await fleet(), await fleet()];
    let n = 0;
    const batchOf = (f: typeof a) =>
      Array.from({ length: 3 }, () =>
        memoryEvent({
          hostId: f.hostId,
          vmId: f.vmId,
          gpa: gpaOf(100 + (n++ % 7)),
        }),
      );
    const bodies = Array.from({ length: 16 }, (_, i) => ({
      f: i % 2 ? b : a,
      body: batchOf(i % 2 ? b : a),
    }));
    // every batch of tenant b is also sent a second time, concurrently
    const sends = [...bodies, ...bodies.filter((x) => x.f === b)];
    const groups = async () => {
      const text = (
        await api<string>("GET", "/api/v1/admin/metrics", {
          token: await operator(),
        })
      ).body;
      const read = (suffix: string) =>
        Number(
          new RegExp(
            `^poisonwatch_ingest_group_requests_${suffix} (\\d+)`,
            "m",
          ).exec(text)?.[1] ?? 0,
        );
      return { requests: read("sum"), transactions: read("count") };
    };
    const before = await groups();
    const answers = await Promise.all(
      sends.map((x) =>
        api("POST", "/api/v1/events", {
          token: x.f.hostToken,
          body: x.body,
          contentType: BATCH,
        }),
      ),
    );
    expect(answers.every((r) => r.status === 200)).toBe(true);
    answers.forEach((r, i) =>
      expect(r.body.results.map((x: { id: string }) => x.id)).toEqual(
        sends[i]!.body.map((e) => e.id),
      ),
    );
    const accepted = answers.reduce((s, r) => s + r.body.accepted, 0);
    const duplicates = answers.reduce((s, r) => s + r.body.duplicates, 0);
    expect(accepted).toBe(48);
    expect(duplicates).toBe(24);
    const after = await groups();
    expect(after.requests - before.requests).toBe(sends.length);
    // requests that arrived while a transaction was being written shared the next one
    expect(after.transactions - before.transactions).toBeLessThan(sends.length);
    for (const f of [a, b]) {
      expect(
        await count("memory_error_events", sql`host_id = ${f.hostId}`),
      ).toBe(24);
      const logs = await api("GET", "/api/v1/log-entries?limit=100", {
        token: f.apiKey,
      });
      expect(logs.body.data).toHaveLength(24);
      expect(
        logs.body.data.every(
          (e: { resource: { labels: { vmId: string } } }) =>
            e.resource.labels.vmId === f.vmId,
        ),
      ).toBe(true);
      const inc = await api("GET", "/api/v1/incidents", { token: f.apiKey });
      expect(inc.body.data).toHaveLength(1);
      expect(inc.body.data[0]).toMatchObject({
        vmId: f.vmId,
        errorCount: 24,
        distinctPages: 7,
      });
    }
  });

  it("answers 429 with Retry-After when a host exceeds its rate", async () => {
    const f = await fleet();
    const saved = { ...ingestRateLimiter.config };
    ingestRateLimiter.config = { capacity: 2, refillPerSecond: 0.001 };
    try {
      const send = () =>
        api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
          contentType: CE,
        });
      expect((await send()).status).toBe(200);
      expect((await send()).status).toBe(200);
      const limited = await send();
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe("rate_limited");
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      ingestRateLimiter.config = saved;
      ingestRateLimiter.reset();
    }
  });
});

describe("correlation", () => {
  it("follows a VM across a move: the old host becomes a host_mismatch after the move time", async () => {
    const op = await operator();
    const f = await fleet();
    const host2 = uid("h");
    await api("PUT", `/api/v1/admin/hosts/${host2}`, {
      token: op,
      body: { zone: "zone-a" },
    });
    const tok2 = (
      await api("POST", `/api/v1/admin/hosts/${host2}/tokens`, { token: op })
    ).body.token;
    const moveAt = new Date(Date.now() - 3600_000);
    await api("PUT", `/api/v1/admin/vms/${f.vmId}`, {
      token: op,
      body: {
        projectId: f.projectId,
        name: "web-1",
        zone: "zone-a",
        hostId: host2,
        placedAt: moveAt.toISOString(),
      },
    });
    const before = new Date(moveAt.getTime() - 60_000).toISOString();
    const after = new Date(moveAt.getTime() + 60_000).toISOString();
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: [
        memoryEvent({ hostId: f.hostId, vmId: f.vmId, time: before }),
        memoryEvent({ hostId: f.hostId, vmId: f.vmId, time: after }),
      ],
    });
    expect(r.body.accepted).toBe(2);
    const r2 = await api("POST", "/api/v1/events", {
      token: tok2,
      body: memoryEvent({
        hostId: host2,
        vmId: f.vmId,
        time: after,
        gpa: gpaOf(2),
      }),
    });
    expect(r2.body.accepted).toBe(1);
    const logs = await api("GET", "/api/v1/log-entries", { token: f.apiKey });
    expect(
      logs.body.data.map((e: { timestamp: string }) => e.timestamp).sort(),
    ).toEqual([new Date(before).toISOString(), new Date(after).toISOString()]);
    const mism = await api("GET", "/api/v1/admin/events?reason=host_mismatch", {
      token: op,
    });
    const mine = mism.body.data.filter(
      (e: { vmId: string }) => e.vmId === f.vmId,
    );
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({
      hostId: f.hostId,
      reason: "host_mismatch",
    });
    expect(mine[0].event.time).toBe(after);
  });

  it("a stopped VM runs nowhere: an event while it is stopped belongs to the host that ran it last, no other", async () => {
    const op = await operator();
    const f = await fleet();
    const host2 = uid("h");
    await api("PUT", `/api/v1/admin/hosts/${host2}`, {
      token: op,
      body: { zone: "zone-a" },
    });
    const tok2 = (
      await api("POST", `/api/v1/admin/hosts/${host2}/tokens`, { token: op })
    ).body.token;
    await api("PUT", `/api/v1/admin/vms/${f.vmId}`, {
      token: op,
      body: {
        projectId: f.projectId,
        name: "web-1",
        zone: "zone-a",
        hostId: null,
        placedAt: new Date(Date.now() - 60_000).toISOString(),
      },
    });
    await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
    });
    await api("POST", "/api/v1/events", {
      token: tok2,
      body: memoryEvent({ hostId: host2, vmId: f.vmId, gpa: gpaOf(3) }),
    });
    expect(
      (await api("GET", "/api/v1/log-entries", { token: f.apiKey })).body.data,
    ).toHaveLength(1);
    expect(
      (
        await api(
          "GET",
          `/api/v1/admin/events?reason=host_mismatch&hostId=${f.hostId}`,
          { token: op },
        )
      ).body.data,
    ).toHaveLength(0);
    expect(
      (
        await api(
          "GET",
          `/api/v1/admin/events?reason=host_mismatch&hostId=${host2}`,
          { token: op },
        )
      ).body.data,
    ).toHaveLength(1);
  });

  it("keeps an unknown VM's events and binds them late when the inventory learns the VM", async () => {
    const op = await operator();
    const f = await fleet();
    const newVm = uid("vm");
    const ev = memoryEvent({
      hostId: f.hostId,
      vmId: newVm,
      time: new Date(Date.now() - 30_000).toISOString(),
    });
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: ev,
    });
    expect(r.body.accepted).toBe(1);
    const unknown = await api(
      "GET",
      `/api/v1/admin/events?reason=unknown_vm&hostId=${f.hostId}`,
      { token: op },
    );
    expect(unknown.body.data.map((e: { vmId: string }) => e.vmId)).toEqual([
      newVm,
    ]);
    expect(unknown.body.data[0].event).toEqual(ev);
    expect(
      (await api("GET", "/api/v1/log-entries", { token: f.apiKey })).body.data,
    ).toHaveLength(0);
    await api("PUT", `/api/v1/admin/vms/${newVm}`, {
      token: op,
      body: {
        projectId: f.projectId,
        name: "late-1",
        zone: "zone-a",
        hostId: f.hostId,
        placedAt: new Date(Date.now() - 3600_000).toISOString(),
      },
    });
    const logs = await api("GET", `/api/v1/log-entries?vmId=${newVm}`, {
      token: f.apiKey,
    });
    expect(logs.body.data).toHaveLength(1);
    expect(logs.body.data[0].jsonPayload.message).toContain("late-1");
    const after = await api(
      "GET",
      `/api/v1/admin/events?reason=unknown_vm&hostId=${f.hostId}`,
      { token: op },
    );
    expect(after.body.data).toHaveLength(0);
  });
});

describe("incidents", () => {
  it("groups a VM's errors into one incident; repeats of a page count once; unlocated errors count alone", async () => {
    const f = await fleet({ vms: 2 });
    const [a, b] = f.vmIds as [string, string];
    const evs = [
      memoryEvent({ hostId: f.hostId, vmId: a, gpa: gpaOf(1) }),
      memoryEvent({ hostId: f.hostId, vmId: a, gpa: gpaOf(1) }),
      memoryEvent({ hostId: f.hostId, vmId: a, gpa: gpaOf(2) }),
      memoryEvent({ hostId: f.hostId, vmId: a, gpa: null }),
      memoryEvent({
        hostId: f.hostId,
        vmId: b,
        mechanism: "sigbus",
        sigbusCode: "BUS_MCEERR_AO",
      }),
    ];
    await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: evs.slice(0, 3),
    });
    await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: evs.slice(3),
    });
    const list = await api("GET", "/api/v1/incidents", { token: f.apiKey });
    expect(list.body.data).toHaveLength(2);
    const incA = list.body.data.find((i: { vmId: string }) => i.vmId === a);
    const incB = list.body.data.find((i: { vmId: string }) => i.vmId === b);
    // below the default vmPages (4), so no evacuation yet
    expect(incA).toMatchObject({
      errorCount: 4,
      distinctPages: 3,
      severity: "CRITICAL",
      status: "open",
      playbook: { key: "repeated-memory-errors" },
    });
    expect(incB).toMatchObject({
      errorCount: 1,
      distinctPages: 1,
      severity: "WARNING",
      playbook: { key: "latent-memory-error" },
    });
    const vm = await api("GET", `/api/v1/vms/${a}`, { token: f.apiKey });
    expect(vm.body.memoryHealth).toMatchObject({
      distinctPages: 3,
      threshold: 4,
      windowSeconds: 86400,
      evacuation: null,
    });
    const filtered = await api(
      "GET",
      `/api/v1/incidents?vmId=${b}&status=open`,
      { token: f.apiKey },
    );
    expect(filtered.body.data.map((i: { id: string }) => i.id)).toEqual([
      incB.id,
    ]);
  });
});

describe("tenant isolation", () => {
  it("another tenant's ids answer 404 and lists hold only the key's tenant", async () => {
    const a = await fleet();
    const b = await fleet();
    await api("POST", "/api/v1/events", {
      token: a.hostToken,
      body: memoryEvent({ hostId: a.hostId, vmId: a.vmId }),
    });
    await api("POST", "/api/v1/events", {
      token: b.hostToken,
      body: memoryEvent({ hostId: b.hostId, vmId: b.vmId }),
    });
    const incB = (await api("GET", "/api/v1/incidents", { token: b.apiKey }))
      .body.data[0];
    expect(
      (await api("GET", `/api/v1/incidents/${incB.id}`, { token: a.apiKey }))
        .status,
    ).toBe(404);
    expect(
      (await api("GET", `/api/v1/vms/${b.vmId}`, { token: a.apiKey })).status,
    ).toBe(404);
    for (const path of [
      "/api/v1/incidents",
      "/api/v1/log-entries",
      "/api/v1/vms",
    ]) {
      const r = await api("GET", path, { token: a.apiKey });
      expect(r.status).toBe(200);
      expect(JSON.stringify(r.body)).not.toContain(b.vmId);
      expect(JSON.stringify(r.body)).not.toContain(b.tenantId);
    }
    expect(
      (
        await api("GET", `/api/v1/log-entries?vmId=${b.vmId}`, {
          token: a.apiKey,
        })
      ).body.data,
    ).toHaveLength(0);
    expect(
      (await api("GET", "/api/v1/incidents", { token: a.hostToken })).status,
    ).toBe(403);
    expect(
      (await api("GET", "/api/v1/incidents", { token: await operator() }))
        .status,
    ).toBe(403);
    expect((await api("GET", "/api/v1/incidents")).status).toBe(401);
  });

  it("paginates log entries newest first with an opaque cursor", async () => {
    const f = await fleet();
    const base = Date.now() - 100_000;
    const evs = Array.from({ length: 7 }, (_, i) =>
      memoryEvent({
        hostId: f.hostId,
        vmId: f.vmId,
        gpa: gpaOf(i),
        time: new Date(base + i * 1000).toISOString(),
      }),
    );
    await api("POST", "/api/v1/events", { token: f.hostToken, body: evs });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : "";
      const r = await api("GET", `/api/v1/log-entries?limit=3${q}`, {
        token: f.apiKey,
      });
      expect(r.status).toBe(200);
      seen.push(...r.body.data.map((e: { timestamp: string }) => e.timestamp));
      cursor = r.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(
      evs.map((e) => new Date(e.time as string).toISOString()).reverse(),
    );
    const since = await api(
      "GET",
      `/api/v1/log-entries?since=${encodeURIComponent(new Date(base + 2000).toISOString())}&until=${encodeURIComponent(new Date(base + 4000).toISOString())}`,
      { token: f.apiKey },
    );
    expect(since.body.data).toHaveLength(2);
    expect(
      (
        await api("GET", "/api/v1/log-entries?cursor=garbage", {
          token: f.apiKey,
        })
      ).status,
    ).toBe(400);
    expect(
      (await api("GET", "/api/v1/log-entries?limit=501", { token: f.apiKey }))
        .status,
    ).toBe(400);
  });
});
