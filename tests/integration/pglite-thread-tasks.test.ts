import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setDbHandle } from "@/db";
import type { Db } from "@/db/client";
import { dbThreadOf, openPglite, rawRows } from "@/db/client";
import { newId } from "@/db/ids";
import type { PGliteProxy } from "@/db/pglite-proxy";
import { parseCloudEvent } from "@/server/ingest/event-schema";
import type { Submission } from "@/server/ingest/store-submissions";
import { storeSubmissions } from "@/server/ingest/store-submissions";
import { getBoss, stopBoss } from "@/server/jobs/boss";
import { dbTask, runsInDbThread } from "@/server/jobs/db-task";
import "@/server/jobs/workers";
import { deliverDueWebhooks } from "@/server/notify/webhook-worker";
import { api, fleet } from "../helpers/api";
import { openTestDatabase } from "../helpers/db";
import { memoryEvent } from "../helpers/events";
import { startReceiver } from "../helpers/notify-fakes";

// With PGLITE_THREAD=1, ingestion's group transaction and the deliverer's database work run whole
// in the database's own thread (server/jobs/db-thread-tasks.ts, bundled by db/thread-tasks.mjs):
// one message each instead of a round trip per statement. They must store exactly what the
// statements sent one by one store, and the jobs they make go out once they have committed.
// PGlite only: PostgreSQL has no such thread.

const CE = "application/cloudevents+json";
const BATCH = "application/cloudevents-batch+json";

describe.runIf(!process.env.DATABASE_URL)(
  "ingestion in the embedded database's own thread",
  () => {
    let h: Awaited<ReturnType<typeof openTestDatabase>>;
    let db: Db;
    let proxy: PGliteProxy;
    const calls = { tasks: 0, transactions: 0 };

    beforeAll(async () => {
      // this file's database is one on a thread of its own, whatever PGLITE_THREAD says
      await stopBoss();
      h = await openTestDatabase({ thread: true });
      setDbHandle(h);
      db = h.db;
      proxy = dbThreadOf(db)!;
      const runTask = proxy.runTask.bind(proxy);
      proxy.runTask = (...a) => {
        calls.tasks += 1;
        return runTask(...a);
      };
      const transaction = proxy.transaction.bind(proxy);
      proxy.transaction = ((cb: never) => {
        calls.transactions += 1;
        return transaction(cb);
      }) as typeof proxy.transaction;
      // pg-boss started, with its queues, so that the jobs of a group have somewhere to go
      await getBoss(h);
    });
    afterAll(async () => {
      await stopBoss();
      await h?.drop();
    });

    const count = async (q: ReturnType<typeof sql>) =>
      (await rawRows<{ n: number }>(db, q))[0]!.n;

    it("has the tasks built and loaded, and uses them", () => {
      expect(proxy.hasTasks).toBe(true);
      expect(proxy.tasksProblem).toBeNull();
      expect(runsInDbThread(db)).toBe(true);
    });

    it("writes a batch and concurrent single events with one message per group, not a transaction of statements", async () => {
      const f = await fleet({ vms: 3 });
      calls.tasks = 0;
      calls.transactions = 0;
      const batch = f.vmIds.map((vmId, i) =>
        memoryEvent({
          hostId: f.hostId,
          vmId,
          gpa: `0x00000001${(i + 1).toString(16).padStart(3, "0")}f8000`,
        }),
      );
      const singles = Array.from({ length: 12 }, (_, i) =>
        memoryEvent({
          hostId: f.hostId,
          vmId: f.vmIds[i % 3]!,
          gpa: `0x00000002${(i + 1).toString(16).padStart(3, "0")}f8000`,
        }),
      );
      const answers = await Promise.all([
        api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: batch,
          contentType: BATCH,
        }),
        ...singles.map((ev) =>
          api("POST", "/api/v1/events", {
            token: f.hostToken,
            body: ev,
            contentType: CE,
          }),
        ),
      ]);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      expect(answers[0]!.body.accepted).toBe(3);
      for (const a of answers.slice(1)) expect(a.body.accepted).toBe(1);
      // the 13 requests were written in at least one and at most 13 groups, each one message
      expect(calls.tasks).toBeGreaterThanOrEqual(1);
      expect(calls.tasks).toBeLessThanOrEqual(13);
      expect(calls.transactions).toBe(0);
      const logs = await api("GET", "/api/v1/log-entries?limit=100", {
        token: f.apiKey,
      });
      expect(logs.body.data).toHaveLength(15);
      const incidents = await api("GET", "/api/v1/incidents", {
        token: f.apiKey,
      });
      expect(incidents.body.data).toHaveLength(3);
      expect(
        incidents.body.data
          .map((i: { errorCount: number }) => i.errorCount)
          .sort(),
      ).toEqual([5, 5, 5]);
    });

    // The same submissions for two fleets of the same shape: one stored by the statements sent one by
    // one from this thread, one by the task in the database's thread.
    async function submissionsFor(f: Awaited<ReturnType<typeof fleet>>) {
      const receivedAt = new Date();
      const mk = (vmId: string, gpa: string): Submission["candidates"][0] => {
        const raw = memoryEvent({ hostId: f.hostId, vmId, gpa });
        const parsed = parseCloudEvent(raw, receivedAt);
        if (!parsed.ok) throw new Error(parsed.message);
        return {
          index: 0,
          raw,
          parsed: parsed.event,
          storedId: newId("evt"),
          logEntryId: newId("log"),
        };
      };
      const subs: Submission[] = [
        {
          hostId: f.hostId,
          receivedAt,
          candidates: [
            mk(f.vmIds[0]!, "0x0000000100001000"),
            mk(f.vmIds[0]!, "0x0000000100002000"),
            mk(f.vmIds[1]!, "0x0000000100001000"),
          ],
        },
        {
          hostId: f.hostId,
          receivedAt,
          candidates: [
            mk(f.vmIds[0]!, "0x0000000100001000"),
            mk(f.vmIds[1]!, "0x0000000100003000"),
          ],
        },
      ];
      return subs;
    }

    async function stateOf(f: Awaited<ReturnType<typeof fleet>>) {
      const vm = (id: string) => f.vmIds.indexOf(id);
      const incidents = await rawRows<Record<string, unknown>>(
        db,
        sql`select vm_id, status, severity, error_count, distinct_pages, event_playbook
            from incidents where tenant_id = ${f.tenantId} order by vm_id`,
      );
      const logs = await rawRows<Record<string, unknown>>(
        db,
        sql`select vm_id, severity, playbook, json_payload->>'gpa' as gpa,
                   json_payload->>'message' as message
            from log_entries where tenant_id = ${f.tenantId}
            order by vm_id, json_payload->>'gpa'`,
      );
      const timeline = await rawRows<Record<string, unknown>>(
        db,
        sql`select i.vm_id, t.kind, count(*)::int as n from incident_timeline t
            join incidents i on i.id = t.incident_id
            where i.tenant_id = ${f.tenantId} group by 1, 2 order by 1, 2`,
      );
      const events = await count(
        sql`select count(*)::int as n from memory_error_events where tenant_id = ${f.tenantId}`,
      );
      const norm = (rows: Record<string, unknown>[]) =>
        rows.map((r) => ({
          ...r,
          vm_id: vm(r.vm_id as string),
          message:
            typeof r.message === "string"
              ? r.message.replaceAll(String(r.vm_id), "VM")
              : undefined,
        }));
      return {
        incidents: norm(incidents),
        logs: norm(logs),
        timeline: norm(timeline),
        events,
      };
    }

    it("stores what the statements sent one by one store, and answers the same", async () => {
      const here = await fleet({ vms: 2 });
      const there = await fleet({ vms: 2 });
      const a = await storeSubmissions(db, await submissionsFor(here));
      calls.tasks = 0;
      const b = await dbTask(
        db,
        "storeSubmissions",
        storeSubmissions,
        await submissionsFor(there),
      );
      expect(calls.tasks).toBe(1);
      // per request, the ids it stored: a page seen twice in the group is a second event, not a
      // duplicate, so every event is stored
      expect(a.map((s) => s.size)).toEqual([3, 2]);
      expect(b.map((s) => s.size)).toEqual([3, 2]);
      expect(b[0]).toBeInstanceOf(Set);
      const sa = await stateOf(here);
      const sb = await stateOf(there);
      expect(sa.events).toBe(5);
      expect(sb).toEqual(sa);
    });

    it("answers a failing group with the database's error, and stores nothing of it", async () => {
      const f = await fleet();
      const [sub] = await submissionsFor({ ...f, vmIds: [f.vmId, f.vmId] });
      // two events with one id: the second insert of the log entry's id breaks its primary key
      sub!.candidates[1]!.logEntryId = sub!.candidates[0]!.logEntryId;
      const err = (await dbTask(db, "storeSubmissions", storeSubmissions, [
        sub!,
      ]).catch((e: unknown) => e)) as Error & { cause?: { code?: string } };
      expect(err).toBeInstanceOf(Error);
      expect(err.cause?.code).toBe("23505");
      expect(
        await count(
          sql`select count(*)::int as n from memory_error_events where tenant_id = ${f.tenantId}`,
        ),
      ).toBe(0);
    });

    it("sends the jobs a group makes once it has committed", async () => {
      const f = await fleet();
      const hook = await api("POST", "/api/v1/webhooks", {
        token: f.apiKey,
        body: {
          url: "http://127.0.0.1:9/hook",
          eventTypes: ["memory_error.detected"],
        },
      });
      expect(hook.status).toBe(201);
      const jobs = () =>
        count(
          sql`select count(*)::int as n from pgboss.job where name = 'webhook'
              and data->'deliveryIds' is not null`,
        );
      const before = await jobs();
      const r = await api("POST", "/api/v1/events", {
        token: f.hostToken,
        body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
        contentType: CE,
      });
      expect(r.body.accepted).toBe(1);
      expect(
        await count(
          sql`select count(*)::int as n from webhook_deliveries where tenant_id = ${f.tenantId}`,
        ),
      ).toBe(1);
      expect(await jobs()).toBe(before + 1);
    });

    it("delivers with the deliverer's database work in the thread: each claim and each record one message", async () => {
      // the earlier cases' deliveries (to no receiver) are out of the way
      await db.execute(
        sql`update webhook_deliveries set status = 'failed', next_attempt_at = null where status = 'pending'`,
      );
      const rx = await startReceiver();
      try {
        const f = await fleet();
        const path = rx.newPath();
        const hook = await api("POST", "/api/v1/webhooks", {
          token: f.apiKey,
          body: { url: rx.url(path), eventTypes: ["memory_error.detected"] },
        });
        expect(hook.status).toBe(201);
        rx.setSecrets(path, [hook.body.secret]);
        rx.plan(path, [{ status: 503 }]);
        const ev = memoryEvent({ hostId: f.hostId, vmId: f.vmId });
        await api("POST", "/api/v1/events", {
          token: f.hostToken,
          body: ev,
          contentType: CE,
        });
        calls.tasks = 0;
        calls.transactions = 0;
        // claim (1), record the 503 (1), claim again: nothing more is due (1)
        expect(await deliverDueWebhooks(db, new Date())).toBe(1);
        expect(calls).toEqual({ tasks: 3, transactions: 0 });
        const [d] = await rawRows<{ status: string; attempt_count: number }>(
          db,
          sql`select status, attempt_count from webhook_deliveries where tenant_id = ${f.tenantId}`,
        );
        expect(d).toEqual({ status: "pending", attempt_count: 1 });
        // the retry, once it is due: the same message, verified with the endpoint's secret
        expect(
          await deliverDueWebhooks(db, new Date(Date.now() + 3600_000)),
        ).toBe(1);
        const got = rx.on(path);
        expect(got.map((r) => r.answered)).toEqual([503, 200]);
        expect(new Set(got.map((r) => r.id)).size).toBe(1);
        expect(got[0]!.payload.type).toBe("memory_error.detected");
        expect(rx.unverified).toEqual([]);
        const [after] = await rawRows<{ status: string; n: number }>(
          db,
          sql`select d.status, (select count(*)::int from webhook_attempts a where a.delivery_id = d.id) as n
              from webhook_deliveries d where d.tenant_id = ${f.tenantId}`,
        );
        expect(after).toEqual({ status: "succeeded", n: 2 });
      } finally {
        await rx.close();
      }
    });

    it("without its tasks, the thread still answers statement by statement", async () => {
      const plain = await openPglite("memory://", {
        thread: true,
        threadTasks: false,
        lock: false,
      });
      try {
        expect(dbThreadOf(plain.db)!.hasTasks).toBe(false);
        expect(runsInDbThread(plain.db)).toBe(false);
      } finally {
        await plain.close();
      }
    });
  },
);
