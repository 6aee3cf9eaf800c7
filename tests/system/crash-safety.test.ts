import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { afterAll, describe, expect, it } from "vitest";
import { openPglite } from "@/db/client";
import { freePort } from "@/scripts/bench/harness";
import {
  allLoggedEventIds,
  loadClients,
  makeFleet,
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

// Load ingestion, SIGKILL the app mid-load, restart it: every event acknowledged as accepted is
// stored, and every stored event's memory_error.detected webhook is delivered.
async function crashRun(engine: "postgres" | "pglite") {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let env: Record<string, string | undefined>;
  let storedSourceIds: (ids: string[]) => Promise<Set<string>>;
  let cleanup = async () => {};
  if (engine === "postgres") {
    const db = await createTestDatabase();
    env = { DATABASE_URL: db.url };
    storedSourceIds = db.storedSourceIds;
    cleanup = db.drop;
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), "pw-crash-"));
    env = { DATA_DIR: dir, DATABASE_URL: undefined };
    storedSourceIds = async (ids) => {
      const h = await openPglite(dir);
      const res = await (h.raw as PGlite).query<{ source_event_id: string }>(
        "select source_event_id from memory_error_events where source_event_id = any($1::text[])",
        [ids],
      );
      await h.close();
      return new Set(res.rows.map((r) => r.source_event_id));
    };
  }
  const receiver = await startReceiver();
  receivers.push(receiver);
  const first = startApp(port, env);
  procs.push(first);
  await waitHealthy(base, first);
  const fleet = await makeFleet(base, receiver, { hosts: 4, vmsPerHost: 5 });

  const load = loadClients([base], fleet, 4, 20);
  await waitFor(
    "some acknowledged events",
    () => load.acknowledged.size >= 200,
    60_000,
  );
  await first.kill("SIGKILL");
  await load.stop();
  const acknowledged = [...load.acknowledged];

  const second = startApp(port, env);
  procs.push(second);
  await waitHealthy(base, second);
  const logged = await allLoggedEventIds(base, fleet.apiKey);
  await waitFor(
    "every stored event's webhook",
    () => logged.every((id) => receiver.eventIds.has(id)),
    120_000,
  );
  await second.kill("SIGTERM");
  const stored = await storedSourceIds(acknowledged);
  const missing = acknowledged.filter((id) => !stored.has(id));
  const duplicatedMessages = [...receiver.messagesOfEvent.values()].filter(
    (s) => s.size > 1,
  ).length;
  const redelivered = [...receiver.received.values()].filter(
    (n) => n > 1,
  ).length;
  console.log(
    `crash safety (${engine}): ${acknowledged.length} events acknowledged, ${acknowledged.length - missing.length} found after the SIGKILL and restart; ` +
      `${logged.length} stored events, ${logged.filter((id) => receiver.eventIds.has(id)).length} memory_error.detected delivered; ` +
      `${redelivered} messages received more than once (same webhook-id), ${duplicatedMessages} events with more than one message, ${receiver.invalid} unverifiable`,
  );
  await cleanup();
  return {
    missing,
    acknowledged,
    logged,
    duplicatedMessages,
    invalid: receiver.invalid,
  };
}

function expectNothingLost(r: Awaited<ReturnType<typeof crashRun>>) {
  expect(r.acknowledged.length).toBeGreaterThanOrEqual(200);
  expect(r.missing).toEqual([]);
  expect(r.logged.length).toBeGreaterThanOrEqual(r.acknowledged.length);
  expect(r.duplicatedMessages).toBe(0);
  expect(r.invalid).toBe(0);
}

describe("crash safety", () => {
  it("PostgreSQL: nothing acknowledged is lost and every promised webhook is delivered after SIGKILL", async () => {
    expectNothingLost(await crashRun("postgres"));
  }, 300_000);

  it("PGlite: the same holds across a process crash (no promise about power loss: fsync is off)", async () => {
    expectNothingLost(await crashRun("pglite"));
  }, 300_000);
});
