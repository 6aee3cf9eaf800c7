// npm run bench:ingest – ingestion throughput and latency on PGlite and PostgreSQL, each beside
// baselines measured in the same run: a raw multi-row INSERT of exactly the rows ingestion writes
// (events + log entries) into the same database, and an empty Next route handler.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import type { PGlite } from "@electric-sql/pglite";
import type { Sql } from "postgres";
import type { DbHandle } from "@/db/client";
import { openPglite, openPostgres } from "@/db/client";
import { newId } from "@/db/ids";
import { buildLogEntryPayload } from "@/server/incidents/log-entry";
import { parseCloudEvent } from "@/server/ingest/event-schema";
import { normalizeEvent } from "@/server/ingest/normalize-event";
import { createHostToken, upsertHost, upsertProject, upsertTenant, upsertVm } from "@/server/inventory/inventory";
import { ensureBuild, fmt, startServer } from "./bench/harness";

const HOSTS = 10;
const VMS_PER_HOST = 20;
const BATCH = 100;
const BATCH_REQUESTS = Number(process.env.BENCH_BATCHES ?? 200);
const SINGLE_REQUESTS = Number(process.env.BENCH_SINGLES ?? 4000);
const RAW_EVENTS = BATCH * BATCH_REQUESTS;

type Fleet = { hosts: { id: string; token: string; vms: string[] }[] };

async function seedFleet(h: DbHandle): Promise<Fleet> {
  const ctx = { db: h.db, actor: "bench" };
  await upsertTenant(ctx, "bench", { name: "Bench", contactEmails: [] });
  await upsertProject(ctx, "bench-p", { tenantId: "bench", name: "Bench" });
  const hosts: Fleet["hosts"] = [];
  for (let i = 0; i < HOSTS; i++) {
    const id = `bench-h${i}`;
    await upsertHost(ctx, id, { zone: "z1" });
    const { token } = await createHostToken(ctx, id);
    const vms: string[] = [];
    for (let j = 0; j < VMS_PER_HOST; j++) {
      const vm = `bench-vm-${i}-${j}`;
      await upsertVm(ctx, vm, { projectId: "bench-p", name: vm, zone: "z1", hostId: id, placedAt: "2020-01-01T00:00:00Z" });
      vms.push(vm);
    }
    hosts.push({ id, token, vms });
  }
  return { hosts };
}

let seq = 0;
function eventFor(hostId: string, vmId: string, prefix: string) {
  seq += 1;
  const page = (0x100000 + (seq % 50_000)) * 0x1000;
  return {
    specversion: "1.0",
    id: `${prefix}-${seq}`,
    source: `/hosts/${hostId}`,
    type: "vmm.memory_error.v1",
    time: new Date().toISOString(),
    subject: vmId,
    data: {
      vmId, hostId, vcpu: seq % 8, arch: "arm64", mechanism: "kvm_exit_arm_sea", guestMode: "user",
      actions: ["sea_injected", "page_unmapped"],
      armSea: { flags: 1, esr: "0x0000000092000010", gva: "0x0000ffff9a2b3c40", gpa: "0x" + page.toString(16).padStart(16, "0") },
    },
  };
}

// The rows ingestion writes per event (memory_error_events + log_entries), as raw parameterised multi-row INSERTs.
async function rawInsertBaseline(h: DbHandle, fleet: Fleet): Promise<{ eventsPerSec: number }> {
  const evCols = ["id", "host_id", "source_event_id", "vm_id", "tenant_id", "project_id", "event_time", "received_at", "severity", "consumed", "guest_kernel", "page_key", "mechanism", "log_entry_id", "raw"];
  const logCols = ["id", "tenant_id", "project_id", "vm_id", "event_id", "incident_id", "timestamp", "receive_timestamp", "severity", "playbook", "zone", "json_payload", "vcpu"];
  const batches: { ev: unknown[][]; log: unknown[][] }[] = [];
  for (let b = 0; b < RAW_EVENTS / BATCH; b++) {
    const host = fleet.hosts[b % HOSTS]!;
    const ev: unknown[][] = [];
    const log: unknown[][] = [];
    for (let i = 0; i < BATCH; i++) {
      const vm = host.vms[i % host.vms.length]!;
      const raw = eventFor(host.id, vm, "raw");
      const parsed = parseCloudEvent(raw, new Date());
      if (!parsed.ok) throw new Error(parsed.message);
      const norm = normalizeEvent(parsed.event.data, vm);
      const id = newId("evt");
      const logId = newId("log");
      const t = new Date();
      ev.push([id, host.id, raw.id, vm, "bench", "bench-p", parsed.event.time, t, norm.severity, norm.consumed, norm.guestKernel, norm.pageKey, "kvm_exit_arm_sea", logId, JSON.stringify(raw)]);
      const payload = buildLogEntryPayload({
        eventId: id, logEntryId: logId, vm: { id: vm, tenantId: "bench", projectId: "bench-p", name: vm, zone: "z1" },
        tenantId: "bench", projectId: "bench-p", hostId: host.id, eventTime: parsed.event.time, receivedAt: t, data: parsed.event.data, norm,
      });
      log.push([logId, "bench", "bench-p", vm, id, "inc_raw", parsed.event.time, t, norm.severity, "user-process-memory-error", "z1", JSON.stringify(payload), parsed.event.data.vcpu ?? null]);
    }
    batches.push({ ev, log });
  }
  const stmt = (table: string, cols: string[], rows: unknown[][]) => {
    const params: unknown[] = [];
    const tuples = rows.map((r) => `(${r.map((v) => (params.push(v instanceof Date ? v.toISOString() : v), `$${params.length}`)).join(", ")})`);
    return { text: `insert into ${table} (${cols.join(", ")}) values ${tuples.join(", ")}`, params };
  };
  const begin = performance.now();
  for (const b of batches) {
    // one transaction per batch, like ingestion
    const e = stmt("memory_error_events", evCols, b.ev);
    const l = stmt("log_entries", logCols, b.log);
    if (h.kind === "pglite") {
      await (h.raw as PGlite).transaction(async (tx) => {
        await tx.query(e.text, e.params);
        await tx.query(l.text, l.params);
      });
    } else {
      await (h.raw as Sql).begin(async (tx) => {
        await tx.unsafe(e.text, e.params as never[]);
        await tx.unsafe(l.text, l.params as never[]);
      });
    }
  }
  const secs = (performance.now() - begin) / 1000;
  return { eventsPerSec: RAW_EVENTS / secs };
}

async function load(url: string, opts: { connections: number; amount: number; body: () => { token: string; body: string }; path: string; contentType: string }) {
  const r = await autocannon({
    url: url + opts.path,
    connections: opts.connections,
    amount: opts.amount,
    method: "POST",
    requests: [
      {
        method: "POST",
        setupRequest: (req) => {
          const b = opts.body();
          return { ...req, method: "POST", path: opts.path, body: b.body, headers: { "content-type": opts.contentType, authorization: `Bearer ${b.token}` } };
        },
      },
    ],
  });
  return { reqPerSec: r["2xx"] / r.duration, ok: r["2xx"], non2xx: r.non2xx + r.errors, p50: r.latency.p50, p99: r.latency.p99 };
}

async function benchEngine(engine: "pglite" | "postgres") {
  let handle: DbHandle;
  let env: Record<string, string | undefined>;
  let cleanup = async () => {};
  if (engine === "pglite") {
    const dir = mkdtempSync(path.join(tmpdir(), "pw-bench-"));
    handle = await openPglite(dir);
    env = { DATA_DIR: dir, DATABASE_URL: undefined };
  } else {
    const base = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
    const { default: postgres } = await import("postgres");
    const admin = postgres(base, { max: 1, onnotice: () => {} });
    const name = `pw_bench_${Date.now()}`;
    await admin.unsafe(`create database ${name}`);
    const u = new URL(base);
    u.pathname = `/${name}`;
    handle = await openPostgres(u.toString());
    env = { DATABASE_URL: u.toString() };
    cleanup = async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const fleet = await seedFleet(handle);
  const raw = await rawInsertBaseline(handle, fleet);
  await handle.close();
  const server = await startServer({ ...env, POISONWATCH_DEMO: "0", POISONWATCH_BENCH: "1", OPERATOR_TOKEN: "pwo_bench_operator_token_0000" });
  try {
    const emptyBody = JSON.stringify(eventFor("x", "y", "empty"));
    const empty = await load(server.url, { connections: 50, amount: SINGLE_REQUESTS, path: "/api/bench/empty", contentType: "application/json", body: () => ({ token: "none", body: emptyBody }) });
    let h = 0;
    const nextHost = () => fleet.hosts[h++ % HOSTS]!;
    const batches = await load(server.url, {
      connections: 10,
      amount: BATCH_REQUESTS,
      path: "/api/v1/events",
      contentType: "application/cloudevents-batch+json",
      body: () => {
        const host = nextHost();
        return { token: host.token, body: JSON.stringify(Array.from({ length: BATCH }, (_, i) => eventFor(host.id, host.vms[i % host.vms.length]!, "b"))) };
      },
    });
    const singles = await load(server.url, {
      connections: 50,
      amount: SINGLE_REQUESTS,
      path: "/api/v1/events",
      contentType: "application/cloudevents+json",
      body: () => {
        const host = nextHost();
        return { token: host.token, body: JSON.stringify(eventFor(host.id, host.vms[seq % host.vms.length]!, "s")) };
      },
    });
    return { engine, raw, empty, batches: { ...batches, eventsPerSec: batches.reqPerSec * BATCH }, singles };
  } finally {
    await server.stop();
    await cleanup();
  }
}

async function main() {
  ensureBuild();
  const engines = (process.env.BENCH_ENGINES ?? "pglite,postgres").split(",") as ("pglite" | "postgres")[];
  const rows: Awaited<ReturnType<typeof benchEngine>>[] = [];
  for (const e of engines) {
    console.log(`\n--- ${e} ---`);
    rows.push(await benchEngine(e));
  }
  console.log("\nbench:ingest (2 cores; load generator on the same machine)\n");
  console.log("| engine | raw INSERT baseline (events/s) | batched ingest (events/s, 100/batch, 10 conc.) | ratio | batch p50/p99 ms | single ingest (events/s, 50 conc.) | single p50/p99 ms | empty route (req/s) | empty p50/p99 ms | non-2xx |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.engine} | ${fmt(r.raw.eventsPerSec)} | ${fmt(r.batches.eventsPerSec)} | ${fmt(r.batches.eventsPerSec / r.raw.eventsPerSec, 2)}× | ${r.batches.p50}/${r.batches.p99} | ${fmt(r.singles.reqPerSec)} | ${r.singles.p50}/${r.singles.p99} | ${fmt(r.empty.reqPerSec)} | ${r.empty.p50}/${r.empty.p99} | ${r.batches.non2xx + r.singles.non2xx + r.empty.non2xx} |`,
    );
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
