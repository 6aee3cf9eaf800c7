import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "@/scripts/bench/harness";
import {
  allLoggedEventIds,
  loadClients,
  makeFleet,
  spawnProc,
  startApp,
  startReceiver,
  waitFor,
  waitHealthy,
} from "./fleet-harness";
import type { Proc, Receiver } from "./fleet-harness";
import { createTestDatabase } from "./pg";

const procs: Proc[] = [];
const receivers: Receiver[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill("SIGKILL");
  for (const r of receivers) await r.close();
});

// The documented way to scale out: web-only app processes and separate worker processes on one
// PostgreSQL. A worker killed mid-run loses nothing; no message is created twice.
describe("two app processes and two worker processes on one PostgreSQL", () => {
  it("delivers every notification, with no duplicate beyond retries of the same webhook-id", async () => {
    const db = await createTestDatabase();
    const receiver = await startReceiver();
    receivers.push(receiver);
    const env = { DATABASE_URL: db.url, POISONWATCH_WORKERS: "0" };
    const ports = [await freePort(), await freePort()];
    const bases = ports.map((p) => `http://127.0.0.1:${p}`);
    const apps = ports.map((p) => startApp(p, env));
    procs.push(...apps);
    await waitHealthy(bases[0]!, apps[0]!);
    await waitHealthy(bases[1]!, apps[1]!);
    const workers = [0, 1].map(() =>
      spawnProc(
        process.execPath,
        [
          "--require",
          "./scripts/server-only-shim.cjs",
          "--import",
          "tsx",
          "scripts/worker.ts",
        ],
        {
          DATABASE_URL: db.url,
          WEBHOOK_ALLOW_PRIVATE: "1",
          POISONWATCH_DEMO: "0",
        },
      ),
    );
    procs.push(...workers);
    await waitFor(
      "workers started",
      () =>
        workers.every((w) => /workers? (started|running)/i.test(w.output())),
      60_000,
    );
    const fleet = await makeFleet(bases[0]!, receiver, {
      hosts: 4,
      vmsPerHost: 5,
    });

    const load = loadClients(bases, fleet, 4, 20);
    await waitFor(
      "load under way",
      () => load.acknowledged.size >= 300,
      60_000,
    );
    await workers[0]!.kill("SIGKILL");
    await waitFor("more load", () => load.acknowledged.size >= 600, 60_000);
    await load.stop();

    const logged = await allLoggedEventIds(bases[1]!, fleet.apiKey);
    await waitFor(
      "every stored event's webhook",
      () => logged.every((id) => receiver.eventIds.has(id)),
      180_000,
    );
    const stored = await db.storedSourceIds([...load.acknowledged]);
    const duplicatedMessages = [...receiver.messagesOfEvent.values()].filter(
      (s) => s.size > 1,
    ).length;
    const redelivered = [...receiver.received.values()].filter(
      (n) => n > 1,
    ).length;
    console.log(
      `many processes: ${load.acknowledged.size} events acknowledged across 2 app processes, ${stored.size} stored; ` +
        `memory_error.detected expected ${logged.length}, received ${logged.filter((id) => receiver.eventIds.has(id)).length}; ` +
        `${receiver.received.size} distinct messages, ${redelivered} received more than once (same webhook-id), ${duplicatedMessages} duplicated messages; worker 1 SIGKILLed mid-run`,
    );
    expect(stored.size).toBe(load.acknowledged.size);
    expect(duplicatedMessages).toBe(0);
    expect(receiver.invalid).toBe(0);
    await db.drop();
  }, 300_000);
});
