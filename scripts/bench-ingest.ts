// npm run bench:ingest – ingestion throughput and latency on PGlite and PostgreSQL, each beside
// baselines measured in the same run: raw multi-row INSERTs of exactly the rows ingestion writes
// (events, log entries, incident pages, timeline) into the same database, and an empty Next route
// handler.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import type { PGlite } from "@electric-sql/pglite";
import type { Sql } from "postgres";
import type { DbHandle } from "@/db/client";
import { openPglite, openPostgres } from "@/db/client";
import { newId } from "@/db/ids";
import { serviceContext } from "@/server/context";
import { buildLogEntryPayload } from "@/server/incidents/log-entry";
import { parseCloudEvent } from "@/server/ingest/event-schema";
import { normalizeEvent } from "@/server/ingest/normalize-event";
import { createHostToken } from "@/server/inventory/host-tokens";
import { upsertHost } from "@/server/inventory/hosts";
import { upsertProject } from "@/server/inventory/projects";
import { upsertTenant } from "@/server/inventory/tenants";
import { upsertVm } from "@/server/vm-lifecycle";
import { ensureBuild, fmt, startServer } from "./bench/harness";

const HOSTS = 10;
const VMS_PER_HOST = 20;
const BATCH = 100;
const BATCH_REQUESTS = Number(process.env.BENCH_BATCHES ?? 600);
const SINGLE_REQUESTS = Number(process.env.BENCH_SINGLES ?? 4000);
const RAW_EVENTS = BATCH * BATCH_REQUESTS;

type Fleet = { hosts: { id: string; token: string; vms: string[] }[] };

async function seedFleet(
  h: DbHandle,
  hostCount = HOSTS,
  vmsPerHost = VMS_PER_HOST,
): Promise<Fleet> {
  // a context per call: each takes the time of the clock when it runs
  const ctx = () => serviceContext(h.db, "bench");
  await upsertTenant(ctx(), { id: "bench", name: "Bench", contactEmails: [] });
  await upsertProject(ctx(), {
    id: "bench-p",
    tenantId: "bench",
    name: "Bench",
  });
  const hosts: Fleet["hosts"] = [];
  for (let i = 0; i < hostCount; i++) {
    const id = `bench-h${i}`;
    await upsertHost(ctx(), { id, zone: "z1" });
    const { token } = await createHostToken(ctx(), { hostId: id });
    const vms: string[] = [];
    for (let j = 0; j < vmsPerHost; j++) {
      const vm = `bench-vm-${i}-${j}`;
      await upsertVm(ctx(), {
        id: vm,
        projectId: "bench-p",
        name: vm,
        zone: "z1",
        hostId: id,
        placedAt: "2020-01-01T00:00:00Z",
      });
      vms.push(vm);
    }
    hosts.push({ id, token, vms });
  }
  return { hosts };
}

let seq = 0;
function eventFor(hostId: string, vmId: string, prefix: string) {
  seq += 1;
  const page = (0x100000 + seq) * 0x1000; // every event on a page of its own
  return {
    specversion: "1.0",
    id: `${prefix}-${seq}`,
    source: `/hosts/${hostId}`,
    type: "vmm.memory_error.v1",
    time: new Date().toISOString(),
    subject: vmId,
    data: {
      vmId,
      hostId,
      vcpu: seq % 8,
      arch: "arm64",
      mechanism: "kvm_exit_arm_sea",
      guestMode: "user",
      actions: ["sea_injected", "page_unmapped"],
      armSea: {
        flags: 1,
        esr: "0x0000000092000010",
        gva: "0x0000ffff9a2b3c40",
        gpa: "0x" + page.toString(16).padStart(16, "0"),
      },
    },
  };
}

// Exactly the rows ingestion writes for the batched workload: per event a memory_error_events and
// a log_entries row; per batch and VM (5 events on 5 pages it has not had before) 5 incident_pages
// rows and 5 incident_timeline rows (the first batch: "opened" and 4 "new page" entries). Not
// counted: the UPDATE of the 20 incidents and anything policy or notifications write.
type RawBatch = Record<
  | "memory_error_events"
  | "log_entries"
  | "incident_pages"
  | "incident_timeline",
  Record<string, unknown>[]
>;

function rawBatches(fleet: Fleet): RawBatch[] {
  const out: RawBatch[] = [];
  const incidentOf = new Map<string, string>();
  for (let b = 0; b < RAW_EVENTS / BATCH; b++) {
    const host = fleet.hosts[b % HOSTS]!;
    const batch: RawBatch = {
      memory_error_events: [],
      log_entries: [],
      incident_pages: [],
      incident_timeline: [],
    };
    const t = new Date();
    for (let i = 0; i < BATCH; i++) {
      const vm = host.vms[i % host.vms.length]!;
      const opening = !incidentOf.has(vm);
      if (opening) incidentOf.set(vm, newId("inc"));
      const incidentId = incidentOf.get(vm)!;
      const raw = eventFor(host.id, vm, "raw");
      const parsed = parseCloudEvent(raw, t);
      if (!parsed.ok) throw new Error(parsed.message);
      const norm = normalizeEvent(parsed.event.data, vm);
      const id = newId("evt");
      const logId = newId("log");
      batch.memory_error_events.push({
        id,
        host_id: host.id,
        source_event_id: raw.id,
        vm_id: vm,
        vm_incarnation: `vmi_bench.${vm}`,
        tenant_id: "bench",
        project_id: "bench-p",
        event_time: parsed.event.time,
        received_at: t,
        severity: norm.severity,
        consumed: norm.consumed,
        guest_kernel: norm.guestKernel,
        page_key: norm.pageKey,
        mechanism: "kvm_exit_arm_sea",
        log_entry_id: logId,
        raw,
      });
      const payload = buildLogEntryPayload({
        eventId: id,
        logEntryId: logId,
        vm: {
          id: vm,
          incarnation: `vmi_bench.${vm}`,
          tenantId: "bench",
          projectId: "bench-p",
          name: vm,
          zone: "z1",
        },
        tenantId: "bench",
        projectId: "bench-p",
        hostId: host.id,
        eventTime: parsed.event.time,
        receivedAt: t,
        data: parsed.event.data,
        norm,
      });
      batch.log_entries.push({
        id: logId,
        tenant_id: "bench",
        project_id: "bench-p",
        vm_id: vm,
        event_id: id,
        incident_id: incidentId,
        timestamp: parsed.event.time,
        receive_timestamp: t,
        severity: norm.severity,
        playbook: "user-process-memory-error",
        zone: "z1",
        json_payload: payload,
        vcpu: parsed.event.data.vcpu ?? null,
      });
      batch.incident_pages.push({
        incident_id: incidentId,
        page_key: norm.pageKey,
        first_seen_at: parsed.event.time,
        count: 1,
      });
      batch.incident_timeline.push({
        id: newId("tle"),
        incident_id: incidentId,
        tenant_id: "bench",
        at: t,
        kind: opening ? "opened" : "error",
        summary: opening
          ? `Incident opened: an uncorrectable memory error was consumed in VM ${vm}`
          : `New poisoned page: consumed error at guest-physical page ${norm.gpa}`,
        log_entry_id: logId,
      });
    }
    out.push(batch);
  }
  return out;
}

// Two ways to write those rows, one transaction per batch like ingestion; the faster is the baseline.
async function rawInsertBaseline(
  h: DbHandle,
  fleet: Fleet,
  how: "values" | "json",
  only?: (keyof RawBatch)[],
): Promise<{ eventsPerSec: number }> {
  const batches = rawBatches(fleet).map((b) =>
    only
      ? (Object.fromEntries(
          Object.entries(b).filter(([t]) => only.includes(t as keyof RawBatch)),
        ) as RawBatch)
      : b,
  );
  const values = (table: string, rows: Record<string, unknown>[]) => {
    const cols = Object.keys(rows[0]!);
    const params: unknown[] = [];
    const cell = (v: unknown) =>
      v instanceof Date
        ? v.toISOString()
        : v !== null && typeof v === "object"
          ? JSON.stringify(v)
          : v;
    const tuples = rows.map(
      (r) =>
        `(${cols.map((c) => (params.push(cell(r[c])), `$${params.length}`)).join(", ")})`,
    );
    return {
      text: `insert into ${table} (${cols.join(", ")}) values ${tuples.join(", ")}`,
      params,
    };
  };
  const json = (table: string, rows: Record<string, unknown>[]) => {
    const cols = Object.keys(rows[0]!).join(", ");
    return {
      text: `insert into ${table} (${cols}) select ${cols} from json_populate_recordset(null::${table}, $1::json)`,
      params: [JSON.stringify(rows)],
    };
  };
  const begin = performance.now();
  for (const b of batches) {
    const stmts = Object.entries(b).map(([table, rows]) =>
      how === "values" ? values(table, rows) : json(table, rows),
    );
    if (h.kind === "pglite") {
      await (h.raw as PGlite).transaction(async (tx) => {
        for (const s of stmts) await tx.query(s.text, s.params);
      });
    } else {
      await (h.raw as Sql).begin(async (tx) => {
        for (const s of stmts) await tx.unsafe(s.text, s.params as never[]);
      });
    }
  }
  const secs = (performance.now() - begin) / 1000;
  return { eventsPerSec: RAW_EVENTS / secs };
}

// autocannon ends a fixed-amount run on its next 1 s sample tick, so its duration can be up to a
// second long; throughput here is 2xx answers over the time to the last answer.
async function load(
  url: string,
  opts: {
    connections: number;
    body: () => { token: string; body: string };
    path: string;
    contentType: string;
    method?: "GET" | "POST";
  } & ({ amount: number } | { seconds: number }),
) {
  let last = 0;
  let ok = 0;
  const method = opts.method ?? "POST";
  const begin = performance.now();
  const r = await autocannon({
    url: url + opts.path,
    connections: opts.connections,
    ...("amount" in opts
      ? { amount: opts.amount }
      : { duration: opts.seconds }),
    method,
    requests: [
      {
        method,
        setupRequest: (req) => {
          if (method === "GET") return { ...req, method, path: opts.path };
          const b = opts.body();
          return {
            ...req,
            method,
            path: opts.path,
            body: b.body,
            headers: {
              "content-type": opts.contentType,
              authorization: `Bearer ${b.token}`,
            },
          };
        },
        // in autocannon's README, missing from its types
        ...({
          onResponse: (status: number) => {
            last = performance.now();
            if (status >= 200 && status < 300) ok += 1;
          },
        } as object),
      },
    ],
  });
  return {
    reqPerSec: ok / ((last - begin) / 1000),
    ok,
    non2xx: r.non2xx + r.errors,
    p50: r.latency.p50,
    p99: r.latency.p99,
  };
}

const OPERATOR_TOKEN = "pwo_bench_operator_token_0000";

// Requests and transactions so far, from the server's group-commit metric.
async function groupStats(url: string) {
  const text = await (
    await fetch(`${url}/api/v1/admin/metrics`, {
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
    })
  ).text();
  const read = (suffix: string) =>
    Number(
      new RegExp(
        `^poisonwatch_ingest_group_requests_${suffix} (\\d+)`,
        "m",
      ).exec(text)?.[1] ?? 0,
    );
  return { requests: read("sum"), transactions: read("count") };
}

// A new, empty database of this engine, and the environment a server needs to use it.
async function scratchDatabase(engine: "pglite" | "postgres") {
  if (engine === "pglite") {
    const dir = mkdtempSync(path.join(tmpdir(), "pw-bench-"));
    return {
      handle: await openPglite(dir),
      env: { DATA_DIR: dir, DATABASE_URL: undefined } as Record<
        string,
        string | undefined
      >,
      cleanup: async () => {},
    };
  }
  const base =
    process.env.BENCH_DATABASE_URL ??
    process.env.DATABASE_URL ??
    "postgres://postgres@127.0.0.1:5432/postgres";
  const { default: postgres } = await import("postgres");
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  const name = `pw_bench_${Date.now()}`;
  await admin.unsafe(`create database ${name}`);
  const u = new URL(base);
  u.pathname = `/${name}`;
  return {
    handle: await openPostgres(u.toString()),
    env: { DATABASE_URL: u.toString() } as Record<string, string | undefined>,
    cleanup: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

// The issue's black-box test: a fresh server on a small fleet (8 hosts × 4 VMs), 50 connections
// for BLACKBOX_SECONDS each against the empty route, GET /api/health (one trivial query), and
// single-event POSTs, one after another in the same run.
const BLACKBOX_SECONDS = Number(process.env.BENCH_BLACKBOX_SECONDS ?? 10);

async function blackBox(engine: "pglite" | "postgres") {
  const { handle, env, cleanup } = await scratchDatabase(engine);
  const fleet = await seedFleet(handle, 8, 4);
  await handle.close();
  const server = await startServer({
    ...env,
    POISONWATCH_DEMO: "0",
    POISONWATCH_BENCH: "1",
    OPERATOR_TOKEN,
  });
  try {
    const emptyBody = JSON.stringify(eventFor("x", "y", "empty"));
    let h = 0;
    const single = () => {
      const host = fleet.hosts[h++ % fleet.hosts.length]!;
      return {
        token: host.token,
        body: JSON.stringify(
          eventFor(host.id, host.vms[seq % host.vms.length]!, "bb"),
        ),
      };
    };
    const base = { connections: 50, contentType: "application/json" };
    // warm-up, not measured
    for (const p of ["/api/bench/empty", "/api/v1/events"])
      await load(server.url, {
        ...base,
        connections: 10,
        amount: 200,
        path: p,
        contentType: "application/cloudevents+json",
        body:
          p === "/api/bench/empty"
            ? () => ({ token: "none", body: emptyBody })
            : single,
      });
    const empty = await load(server.url, {
      ...base,
      seconds: BLACKBOX_SECONDS,
      path: "/api/bench/empty",
      body: () => ({ token: "none", body: emptyBody }),
    });
    const health = await load(server.url, {
      ...base,
      seconds: BLACKBOX_SECONDS,
      path: "/api/health",
      method: "GET",
      body: () => ({ token: "none", body: "" }),
    });
    const singles = await load(server.url, {
      ...base,
      seconds: BLACKBOX_SECONDS,
      path: "/api/v1/events",
      contentType: "application/cloudevents+json",
      body: single,
    });
    if (process.env.BENCH_DEBUG) {
      const text = await (
        await fetch(`${server.url}/api/v1/admin/metrics`, {
          headers: { authorization: `Bearer ${OPERATOR_TOKEN}` },
        })
      ).text();
      console.log(
        text
          .split("\n")
          .filter((l) => /^poisonwatch_ingest_(transaction|group)/.test(l))
          .join("\n"),
      );
    }
    return { engine, empty, health, singles };
  } finally {
    await server.stop();
    await cleanup();
  }
}

async function benchEngine(engine: "pglite" | "postgres") {
  const { handle, env, cleanup } = await scratchDatabase(engine);
  const fleet = await seedFleet(handle);
  const rawValues = await rawInsertBaseline(handle, fleet, "values");
  const rawJson = await rawInsertBaseline(handle, fleet, "json");
  const raw =
    rawValues.eventsPerSec >= rawJson.eventsPerSec
      ? { ...rawValues, how: "VALUES" }
      : { ...rawJson, how: "JSON" };
  // for comparison with earlier figures: the events and log entries alone
  const narrow = await rawInsertBaseline(handle, fleet, "json", [
    "memory_error_events",
    "log_entries",
  ]);
  console.log(
    `raw INSERT: multi-row VALUES ${fmt(rawValues.eventsPerSec)} events/s, json_populate_recordset ${fmt(rawJson.eventsPerSec)} events/s; ` +
      `events and log entries alone ${fmt(narrow.eventsPerSec)} events/s`,
  );
  await handle.close();
  const server = await startServer({
    ...env,
    POISONWATCH_DEMO: "0",
    POISONWATCH_BENCH: "1",
    OPERATOR_TOKEN,
  });
  try {
    const emptyBody = JSON.stringify(eventFor("x", "y", "empty"));
    const empty = await load(server.url, {
      connections: 50,
      amount: SINGLE_REQUESTS,
      path: "/api/bench/empty",
      contentType: "application/json",
      body: () => ({ token: "none", body: emptyBody }),
    });
    let h = 0;
    const nextHost = () => fleet.hosts[h++ % HOSTS]!;
    // warm-up, not measured: each host's first batch opens its VMs' incidents and (this workload
    // crosses every threshold at once) schedules their evacuations; the server's code gets compiled
    for (const host of fleet.hosts) {
      const res = await fetch(`${server.url}/api/v1/events`, {
        method: "POST",
        headers: {
          "content-type": "application/cloudevents-batch+json",
          authorization: `Bearer ${host.token}`,
        },
        body: JSON.stringify(
          Array.from({ length: BATCH }, (_, i) =>
            eventFor(host.id, host.vms[i % host.vms.length]!, "w"),
          ),
        ),
      });
      if (res.status !== 200)
        throw new Error(`warm-up: ${res.status} ${await res.text()}`);
    }
    const g0 = await groupStats(server.url);
    const batches = await load(server.url, {
      connections: 10,
      amount: BATCH_REQUESTS,
      path: "/api/v1/events",
      contentType: "application/cloudevents-batch+json",
      body: () => {
        const host = nextHost();
        return {
          token: host.token,
          body: JSON.stringify(
            Array.from({ length: BATCH }, (_, i) =>
              eventFor(host.id, host.vms[i % host.vms.length]!, "b"),
            ),
          ),
        };
      },
    });
    const g1 = await groupStats(server.url);
    const singles = await load(server.url, {
      connections: 50,
      amount: SINGLE_REQUESTS,
      path: "/api/v1/events",
      contentType: "application/cloudevents+json",
      body: () => {
        const host = nextHost();
        return {
          token: host.token,
          body: JSON.stringify(
            eventFor(host.id, host.vms[seq % host.vms.length]!, "s"),
          ),
        };
      },
    });
    const g2 = await groupStats(server.url);
    const perTx = (a: typeof g0, b: typeof g0) =>
      (b.requests - a.requests) / Math.max(1, b.transactions - a.transactions);
    return {
      engine,
      raw,
      rawValues,
      rawJson,
      narrow,
      empty,
      batches: {
        ...batches,
        eventsPerSec: batches.reqPerSec * BATCH,
        perTx: perTx(g0, g1),
      },
      singles: { ...singles, perTx: perTx(g1, g2) },
    };
  } finally {
    await server.stop();
    await cleanup();
  }
}

async function main() {
  ensureBuild();
  const engines = (process.env.BENCH_ENGINES ?? "pglite,postgres").split(
    ",",
  ) as ("pglite" | "postgres")[];
  const rows: Awaited<ReturnType<typeof benchEngine>>[] = [];
  const boxes: Awaited<ReturnType<typeof blackBox>>[] = [];
  for (const e of engines) {
    console.log(`\n--- ${e} ---`);
    // BENCH_BLACKBOX=only runs the black box alone (e.g. to profile the server under it)
    if (process.env.BENCH_BLACKBOX !== "only") rows.push(await benchEngine(e));
    if (process.env.BENCH_BLACKBOX !== "0") boxes.push(await blackBox(e));
  }
  console.log("\nbench:ingest (2 cores; load generator on the same machine)\n");
  console.log(
    "| engine | raw INSERT baseline (events/s, the faster of VALUES / JSON) | batched ingest (events/s, 100/batch, 10 conc.) | ratio | batch p50/p99 ms | single ingest (events/s, 50 conc.) | single p50/p99 ms | requests per transaction (batched / single) | empty route (req/s) | empty p50/p99 ms | non-2xx |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.engine} | ${fmt(r.raw.eventsPerSec)} (${r.raw.how}; VALUES ${fmt(r.rawValues.eventsPerSec)}, JSON ${fmt(r.rawJson.eventsPerSec)}) | ${fmt(r.batches.eventsPerSec)} | ${fmt(r.batches.eventsPerSec / r.raw.eventsPerSec, 2)}× | ${r.batches.p50}/${r.batches.p99} | ${fmt(r.singles.reqPerSec)} | ${r.singles.p50}/${r.singles.p99} | ${fmt(r.batches.perTx, 1)} / ${fmt(r.singles.perTx, 1)} | ${fmt(r.empty.reqPerSec)} | ${r.empty.p50}/${r.empty.p99} | ${r.batches.non2xx + r.singles.non2xx + r.empty.non2xx} |`,
    );
  }
  console.log("");
  for (const r of rows) {
    console.log(
      `${r.engine}: against the events and log entries alone (${fmt(r.narrow.eventsPerSec)} events/s), batched ingestion is ${fmt(r.batches.eventsPerSec / r.narrow.eventsPerSec, 2)}×`,
    );
  }
  if (boxes.length) {
    console.log(
      `\nblack box: fresh server, 8 hosts × 4 VMs, 50 connections, ${BLACKBOX_SECONDS} s each\n`,
    );
    console.log(
      "| engine | single-event POSTs (events/s) | p50/p99 ms | empty route (req/s) | p50/p99 ms | ratio to the empty route | GET /api/health (req/s) | p50/p99 ms | ratio to health | non-2xx |",
    );
    console.log("|---|---|---|---|---|---|---|---|---|---|");
    for (const b of boxes)
      console.log(
        `| ${b.engine} | ${fmt(b.singles.reqPerSec)} | ${b.singles.p50}/${b.singles.p99} | ${fmt(b.empty.reqPerSec)} | ${b.empty.p50}/${b.empty.p99} | ${fmt(b.singles.reqPerSec / b.empty.reqPerSec, 2)}× | ${fmt(b.health.reqPerSec)} | ${b.health.p50}/${b.health.p99} | ${fmt(b.singles.reqPerSec / b.health.reqPerSec, 2)}× | ${b.singles.non2xx + b.empty.non2xx + b.health.non2xx} |`,
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
