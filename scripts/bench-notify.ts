// npm run bench:notify – notification latency and delivery throughput:
//  1. event → webhook received (memory_error.detected: one message per event), p50/p99, at steady
//     offered rates up to 1,000 events/s through the REST router (POST /api/v1/events, in process,
//     without Next's HTTP layer) with the pg-boss workers delivering;
//  2. one incident.opened fanned out to 1,000 endpoints, beside a raw POST loop (same concurrency,
//     keep-alive connections like the deliverer's) to the same local receiver, in the same run;
//  3. chat and paging channels: event → first channel message (incident.opened to a webhook, a
//     Slack, a Teams and a PagerDuty channel), p50/p99, while events arrive at 1,000/s and a new
//     VM's first error opens an incident every BENCH_OPEN_EVERY events; then one incident.opened
//     fanned out to BENCH_MIXED subscriptions across the four kinds (each rendering its own
//     message; PagerDuty through PAGERDUTY_EVENTS_URL pointed at the receiver), beside the raw
//     POST loop for the same number of requests.
// The receiver runs in a worker thread. PGlite (in a data directory) runs the workers in this process, as the
// app does; with DATABASE_URL a scratch database on that server and `npm run worker` as a second
// process, as a PostgreSQL deployment does.
// Run with scripts/server-only-shim.cjs preloaded (npm run bench:notify does).
import type { DbHandle } from "@/db/client";
export {};
process.env.WEBHOOK_ALLOW_PRIVATE = "1";
process.env.POISONWATCH_DEMO = "0";
process.env.PUBLIC_URL ??= "http://localhost:3000";

const { spawn } = await import("node:child_process");
const { Agent, request } = await import("node:http");
const { performance } = await import("node:perf_hooks");
const { Worker } = await import("node:worker_threads");
const { setDbHandle } = await import("@/db");
const { dbThreadOf, openPglite, openPostgres } = await import("@/db/client");
const { dbEnv } = await import("@/db/env");
const { hashToken, newSecretToken, OPERATOR_TOKEN_SETTING } =
  await import("@/server/auth-tokens");
const { apiRouter } = await import("@/server/http/routes");
const { getBoss, startWorkers, stopBoss } = await import("@/server/jobs/boss");
await import("@/server/jobs/workers");
const { webhookEndpoints } = await import("@/db/schema");
const { newId } = await import("@/db/ids");
const { generateWebhookSecret } =
  await import("@/server/notify/webhook-signature");
const { putSetting } = await import("@/server/app-settings");
const { senderThreadOn } = await import("@/server/notify/http-sender");

const RATES = (process.env.BENCH_RATES ?? "100,250,500,1000")
  .split(",")
  .map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PER_REQUEST = Number(process.env.BENCH_BATCH ?? 10);
const FANOUT = Number(process.env.BENCH_ENDPOINTS ?? 1000);
const CHANNEL_RATE = Number(process.env.BENCH_CHANNEL_RATE ?? 1000);
const OPEN_EVERY = Number(process.env.BENCH_OPEN_EVERY ?? 25);
const MIXED = Number(process.env.BENCH_MIXED ?? 400);
const RAW_CONCURRENCY = 64;
const VMS = 50;

const clock = () => performance.timeOrigin + performance.now();
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length
    ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
    : NaN;
};
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : "–");

// ---- receiver (worker thread): answers 200 and reports (path, arrival time, log entry timestamp)
const receiverSource = `
const { createServer } = require("node:http");
const { parentPort } = require("node:worker_threads");
const { performance } = require("node:perf_hooks");
let pending = [];
const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const at = performance.timeOrigin + performance.now();
    const raw = Buffer.concat(chunks).toString("utf8");
    let ts = null;
    try { ts = JSON.parse(raw).data.timestamp ?? null; } catch {}
    // phase 3: the VM a chat or paging message names
    const tag = /\\bchl-vm\\d+\\b/.exec(raw)?.[0] ?? null;
    pending.push([req.url, at, ts, tag]);
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
  });
});
server.keepAliveTimeout = 1000;
setInterval(() => { if (pending.length) { parentPort.postMessage(pending); pending = []; } }, 10).unref();
server.listen(0, "127.0.0.1", () => parentPort.postMessage({ port: server.address().port }));
parentPort.on("message", (m) => { if (m === "stop") server.close(() => process.exit(0)); });
`;
const receiver = new Worker(receiverSource, { eval: true });
const arrivals: {
  path: string;
  at: number;
  ts: string | null;
  tag: string | null;
}[] = [];
const port = await new Promise<number>((resolve) => {
  receiver.on("message", (m: unknown) => {
    if (Array.isArray(m))
      for (const [path, at, ts, tag] of m as [
        string,
        number,
        string | null,
        string | null,
      ][])
        arrivals.push({ path, at, ts, tag });
    else resolve((m as { port: number }).port);
  });
});
const base = `http://127.0.0.1:${port}`;
// PagerDuty channels send to the receiver (read at the first send; the worker process inherits it)
process.env.PAGERDUTY_EVENTS_URL = `${base}/pd/v2/enqueue`;

// ---- database and workers
const url = process.env.DATABASE_URL;
// BENCH_PGLITE=memory: PGlite on emscripten's in-memory file system instead of a data directory
const pgliteInMemory = process.env.BENCH_PGLITE === "memory";
let cleanup = async () => {};
// BENCH_DEBUG=1 on PGlite: where the database's time goes, per statement text (printed per phase)
const statementStats = new Map<
  string,
  { n: number; ms: number; rows: number; max: number }
>();
function noteStatement(text: string, ms: number, rows: number) {
  const key = text.replace(/\s+/g, " ").replace(/\$\d+(, \$\d+)*/g, "$…");
  const s = statementStats.get(key) ?? { n: 0, ms: 0, rows: 0, max: 0 };
  s.n += 1;
  s.ms += ms;
  s.rows += rows;
  s.max = Math.max(s.max, ms);
  statementStats.set(key, s);
}
function printStatementStats(title: string) {
  if (!statementStats.size) return;
  const all = [...statementStats.values()].reduce((a, s) => a + s.ms, 0);
  console.log(
    `   database time by statement, ${title}: ${all.toFixed(0)} ms in all`,
  );
  for (const [k, s] of [...statementStats]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, 15))
    console.log(
      `   ${s.ms.toFixed(0).padStart(6)} ms ${String(s.n).padStart(6)}× ${(s.rows / s.n).toFixed(1).padStart(6)} rows, max ${s.max.toFixed(0).padStart(4)} ms  ${k.slice(0, 110)}`,
    );
  statementStats.clear();
}
let handle: DbHandle;
if (url) {
  const { default: postgres } = await import("postgres");
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  const name = `pw_bench_notify_${process.pid}`;
  await admin.unsafe(`create database ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  handle = await openPostgres(u.toString(), { max: 10 });
  await getBoss(handle);
  const worker = spawn(
    process.execPath,
    [
      "--require",
      "./scripts/server-only-shim.cjs",
      "--import",
      "tsx",
      "scripts/worker.ts",
    ],
    {
      env: { ...process.env, DATABASE_URL: u.toString() },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  cleanup = async () => {
    worker.kill("SIGTERM");
    await new Promise((r) => worker.once("exit", r));
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
} else {
  // as the app runs it: in a data directory on disk (BENCH_PGLITE=memory for emscripten's
  // in-memory file system, which copies a growing file on each extension), on the main thread or
  // on a thread of its own with PGLITE_THREAD=1
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const path = await import("node:path");
  const dir = pgliteInMemory
    ? "memory://"
    : mkdtempSync(path.join(tmpdir(), "pw-bench-notify-"));
  handle = await openPglite(dir, {
    thread: dbEnv().PGLITE_THREAD === "1",
    onStatement: process.env.BENCH_DEBUG ? noteStatement : undefined,
  });
  if (!pgliteInMemory)
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  await getBoss(handle);
  await startWorkers(handle);
}
setDbHandle(handle);

async function waitFor(
  pred: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    if (pred()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return pred();
}

// ---- fleet through the operator API
async function api(
  method: string,
  path: string,
  token: string,
  body?: unknown,
) {
  const res = await apiRouter.handle(
    new Request(`http://localhost${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    }),
  );
  return {
    status: res.status,
    body: (await res.json().catch(() => null)) as any,
  };
}
const op = newSecretToken("operator");
await putSetting(handle.db, OPERATOR_TOKEN_SETTING, hashToken(op));

async function makeTenant(id: string, vms: number) {
  await api("PUT", `/api/v1/admin/tenants/${id}`, op, {
    name: id,
    contactEmails: [],
  });
  await api("PUT", `/api/v1/admin/projects/${id}-p`, op, {
    tenantId: id,
    name: "p",
  });
  await api("PUT", `/api/v1/admin/hosts/${id}-h`, op, { zone: "z" });
  const host = (await api("POST", `/api/v1/admin/hosts/${id}-h/tokens`, op))
    .body.token as string;
  const key = (await api("POST", `/api/v1/admin/tenants/${id}/api-keys`, op))
    .body.key as string;
  const vmIds: string[] = [];
  for (let i = 0; i < vms; i++) {
    const vm = `${id}-vm${i}`;
    await api("PUT", `/api/v1/admin/vms/${vm}`, op, {
      projectId: `${id}-p`,
      name: vm,
      zone: "z",
      hostId: `${id}-h`,
      placedAt: "2020-01-01T00:00:00Z",
    });
    vmIds.push(vm);
  }
  return { id, hostId: `${id}-h`, host, key, vmIds };
}

let seq = 0;
function event(hostId: string, vmId: string, time: Date) {
  seq += 1;
  return {
    specversion: "1.0",
    id: `bench-${seq}`,
    source: `/hosts/${hostId}`,
    type: "vmm.memory_error.v1",
    time: time.toISOString(),
    subject: vmId,
    data: {
      vmId,
      hostId,
      vcpu: 1,
      arch: "arm64",
      mechanism: "kvm_exit_arm_sea",
      // one page per VM, one host under its degraded threshold: no evacuations in the way
      armSea: {
        flags: 1,
        esr: "0x0000000092000010",
        gva: "0x0000ffff9a2b3c40",
        gpa: "0x00000001234f8000",
      },
      guestMode: "user",
      actions: ["sea_injected", "page_unmapped"],
    },
  };
}

// Subscriptions stored as the create services store them, in one statement: a fan-out past the
// per-tenant cap of 50 (which the services enforce) is what these phases measure.
type Kind = "webhook" | "slack" | "teams" | "pagerduty";
async function subscribe(
  tenantId: string,
  subs: { kind: Kind; url: string; routingKey?: string }[],
) {
  const at = new Date();
  for (let i = 0; i < subs.length; i += 500)
    await handle.db.insert(webhookEndpoints).values(
      subs.slice(i, i + 500).map((x) => ({
        id: newId(x.kind === "webhook" ? "whe" : "chn"),
        tenantId,
        kind: x.kind,
        url: x.kind === "pagerduty" ? "" : x.url,
        eventTypes: ["incident.opened"],
        status: "enabled" as const,
        secret:
          x.kind === "webhook"
            ? generateWebhookSecret()
            : x.kind === "pagerduty"
              ? x.routingKey!
              : "",
        createdAt: at,
        updatedAt: at,
      })),
    );
}
// a PagerDuty routing key (32 letters and digits) of its own
const routingKey = (i: number) => `R${String(i).padStart(31, "0")}`;

// ---- 1. latency at steady offered rates
type RateResult = {
  rate: number;
  label: string;
  offered: number;
  achieved: number;
  received: number;
  total: number;
  e2e: number[];
  ack: number[];
  failed: number;
};
const results: RateResult[] = [];
// the same load without any subscriber: what ingestion alone sustains here, for comparison
const runs: { rate: number; subscribe: boolean; warmup?: boolean }[] = [
  // unmeasured: JIT, connections, the worker process's start
  { rate: 50, subscribe: true, warmup: true },
  ...RATES.map((rate) => ({ rate, subscribe: true })),
  { rate: Math.max(...RATES), subscribe: false },
];
let timeCursor = Date.now() - 3600_000;
// one page per VM and 50 VMs on one host: keep the health policy from evacuating them meanwhile
await api("PUT", `/api/v1/admin/policy`, op, {
  hostDegradedPages: 1_000_000,
  hostEvacuatePages: 1_000_000,
  vmPages: 1_000_000,
});
for (const [r, { rate, subscribe, warmup }] of runs.entries()) {
  // a tenant per run so every run starts without a backlog of its own
  const lat = await makeTenant(`lat${r}`, VMS);
  if (subscribe)
    await api("POST", "/api/v1/webhooks", lat.key, {
      url: `${base}/lat${r}`,
      eventTypes: ["memory_error.detected"],
    });
  // each event has a distinct time, 1 ms apart in the past: its log entry's timestamp names it
  const sentAt = new Map<string, number>();
  const ack: number[] = [];
  let failed = 0;
  const requests = Math.max(1, Math.round((rate * SECONDS) / PER_REQUEST));
  const intervalMs = (1000 * PER_REQUEST) / rate;
  const inflight: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < requests; i++) {
    const wait = started + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const batch = Array.from({ length: PER_REQUEST }, (_, j) => {
      const time = new Date(timeCursor++);
      return {
        ev: event(lat.hostId, lat.vmIds[(i * PER_REQUEST + j) % VMS]!, time),
        key: time.toISOString(),
      };
    });
    const t0 = clock();
    for (const b of batch) sentAt.set(b.key, t0);
    inflight.push(
      (async () => {
        const res = await api(
          "POST",
          "/api/v1/events",
          lat.host,
          batch.map((b) => b.ev),
        );
        if (res.status !== 200 || res.body.accepted !== PER_REQUEST)
          failed += 1;
        ack.push(clock() - t0);
      })(),
    );
  }
  const offeredSeconds = (performance.now() - started) / 1000;
  await Promise.all(inflight);
  const ingestSeconds = (performance.now() - started) / 1000;
  const total = requests * PER_REQUEST;
  const path = `/lat${r}`;
  if (subscribe)
    await waitFor(
      () => arrivals.filter((a) => a.path === path).length >= total,
      120_000,
    );
  const e2e = arrivals
    .filter((a) => a.path === path && a.ts && sentAt.has(a.ts))
    .map((a) => a.at - sentAt.get(a.ts!)!);
  if (warmup) {
    statementStats.clear();
    continue;
  }
  printStatementStats(`${rate} events/s${subscribe ? "" : ", no subscriber"}`);
  results.push({
    rate,
    label: subscribe ? String(rate) : `${rate}*`,
    offered: total / offeredSeconds,
    achieved: total / ingestSeconds,
    received: e2e.length,
    total: subscribe ? total : 0,
    e2e,
    ack,
    failed,
  });
}

// ---- 2. fan-out to 1,000 endpoints beside a raw POST loop
const fan = await makeTenant("fan", 1);
await subscribe(
  "fan",
  Array.from({ length: FANOUT }, (_, i) => ({
    kind: "webhook" as const,
    url: `${base}/fan/${i}`,
  })),
);
const fanStart = clock();
await api(
  "POST",
  "/api/v1/events",
  fan.host,
  event(fan.hostId, fan.vmIds[0]!, new Date()),
);
const fanAck = clock() - fanStart;
const fanArrivals = () => arrivals.filter((a) => a.path.startsWith("/fan/"));
const fanDone = await waitFor(() => fanArrivals().length >= FANOUT, 120_000);
const fanSeconds =
  (Math.max(...fanArrivals().map((a) => a.at)) - fanStart) / 1000;

const rawBody = JSON.stringify({
  type: "incident.opened",
  timestamp: new Date().toISOString(),
  data: { id: "inc_raw" },
});
const post = (p: string) =>
  new Promise<void>((resolve) => {
    const req = request(
      `${base}${p}`,
      {
        method: "POST",
        agent: rawAgent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(rawBody),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve());
      },
    );
    req.on("error", () => resolve());
    req.end(rawBody);
  });
const rawAgent = new Agent({ keepAlive: true });
// n requests, RAW_CONCURRENCY at a time: the baseline of a fan-out of n
async function rawLoop(n: number, prefix: string): Promise<number> {
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: RAW_CONCURRENCY }, async () => {
      while (next < n) await post(`/${prefix}/${next++}`);
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await waitFor(
    () => arrivals.filter((a) => a.path.startsWith(`/${prefix}/`)).length >= n,
    5_000,
  );
  return seconds;
}
const rawSeconds = await rawLoop(FANOUT, "raw");

// ---- 3. chat and paging channels
// 3a. event -> first channel message at CHANNEL_RATE events/s: a new VM opens an incident every
// OPEN_EVERY events, the other events land on VMs already open (a steady load of updates)
const CH_KINDS: Kind[] = ["webhook", "slack", "teams", "pagerduty"];
const chRequests = Math.max(
  1,
  Math.round((CHANNEL_RATE * SECONDS) / PER_REQUEST),
);
// one VM per incident the run opens
const chVms = Math.ceil((chRequests * PER_REQUEST) / OPEN_EVERY);
// The load on a fresh tenant of its own; with `subscribed`, the tenant has one subscription of
// each kind (only "chl" VMs are named in what the receiver reports). Without, it is the same
// ingestion with nobody to tell: the baseline of this phase.
async function channelLoad(prefix: string, subscribed: boolean) {
  const t = await makeTenant(prefix, 0);
  const vmName = (i: number) => `${prefix}-vm${i}`;
  for (let i = 0; i < chVms; i++)
    await api("PUT", `/api/v1/admin/vms/${vmName(i)}`, op, {
      projectId: `${prefix}-p`,
      name: vmName(i),
      zone: "z",
      hostId: t.hostId,
      placedAt: "2020-01-01T00:00:00Z",
    });
  if (subscribed)
    await subscribe(
      prefix,
      CH_KINDS.map((kind) => ({
        kind,
        url: `${base}/${prefix}/${kind}`,
        routingKey: routingKey(1),
      })),
    );
  const openedAt = new Map<string, number>();
  const ack: number[] = [];
  let failed = 0;
  const intervalMs = (1000 * PER_REQUEST) / CHANNEL_RATE;
  let opened = 0;
  let n = 0;
  const inflight: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < chRequests; i++) {
    const wait = started + i * intervalMs - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const t0 = clock();
    const batch = Array.from({ length: PER_REQUEST }, () => {
      n += 1;
      const vm =
        opened === 0 || (n % OPEN_EVERY === 1 && opened < chVms)
          ? vmName(opened++)
          : vmName((n * 7919) % opened);
      if (!openedAt.has(vm)) openedAt.set(vm, t0);
      return event(t.hostId, vm, new Date(timeCursor++));
    });
    inflight.push(
      (async () => {
        const res = await api("POST", "/api/v1/events", t.host, batch);
        if (res.status !== 200 || res.body.accepted !== PER_REQUEST)
          failed += 1;
        ack.push(clock() - t0);
      })(),
    );
  }
  await Promise.all(inflight);
  return { openedAt, ack, failed };
}
const chBase = await channelLoad("chb", false);
const {
  openedAt,
  ack: chAck,
  failed: chFailed,
} = await channelLoad("chl", true);
// the first message of each kind about each opened VM (PagerDuty: all at one URL, one channel)
const chPath = (k: Kind) =>
  k === "pagerduty" ? "/pd/v2/enqueue" : `/chl/${k}`;
await waitFor(
  () =>
    CH_KINDS.every(
      (k) =>
        new Set(
          arrivals
            .filter((a) => a.path === chPath(k) && a.tag)
            .map((a) => a.tag),
        ).size >= openedAt.size,
    ),
  120_000,
);
const firstMessage = (kinds: Kind[]) => {
  const first = new Map<string, number>();
  for (const a of arrivals) {
    if (!a.tag || !kinds.some((k) => a.path === chPath(k))) continue;
    if (!openedAt.has(a.tag)) continue;
    const cur = first.get(a.tag);
    if (cur === undefined || a.at < cur) first.set(a.tag, a.at);
  }
  return [...first].map(([vm, at]) => at - openedAt.get(vm)!);
};
const chByKind = CH_KINDS.map((k) => ({ kind: k, e2e: firstMessage([k]) }));
const chAny = firstMessage(CH_KINDS);

// 3b. one incident.opened to MIXED subscriptions across the four kinds, beside the raw loop
const mix = await makeTenant("mix", 1);
await subscribe(
  "mix",
  Array.from({ length: MIXED }, (_, i) => ({
    kind: CH_KINDS[i % CH_KINDS.length]!,
    url: `${base}/mix/${CH_KINDS[i % CH_KINDS.length]}/${i}`,
    routingKey: routingKey(1000 + i),
  })),
);
const mixStart = clock();
// PagerDuty's share arrives at its one URL, without a phase-3a VM in it
const mixArrivals = () =>
  arrivals.filter(
    (a) =>
      a.at >= mixStart &&
      (a.path.startsWith("/mix/") ||
        (a.path === "/pd/v2/enqueue" && a.tag === null)),
  );
await api(
  "POST",
  "/api/v1/events",
  mix.host,
  event(mix.hostId, mix.vmIds[0]!, new Date()),
);
const mixAck = clock() - mixStart;
const mixDone = await waitFor(() => mixArrivals().length >= MIXED, 120_000);
const mixGot = mixArrivals();
const mixSeconds = (Math.max(...mixGot.map((a) => a.at)) - mixStart) / 1000;
const mixFirst = Math.min(...mixGot.map((a) => a.at)) - mixStart;
const mixByKind = CH_KINDS.map(
  (k) =>
    `${k} ${
      mixGot.filter((a) =>
        k === "pagerduty"
          ? a.path === "/pd/v2/enqueue"
          : a.path.startsWith(`/mix/${k}/`),
      ).length
    }`,
).join(", ");
const mixRawSeconds = await rawLoop(MIXED, "rawmix");

// ---- report
const where = url
  ? "PostgreSQL 15, workers in a second process (npm run worker)"
  : `PGlite (${pgliteInMemory ? "in memory" : "in a data directory on disk"}) ${
      !dbThreadOf(handle.db)
        ? "on the main thread"
        : dbThreadOf(handle.db)!.hasTasks
          ? "on its own thread, running its tasks"
          : "on its own thread, statement by statement"
    }, workers in this process`;
const sender = senderThreadOn()
  ? "HTTP requests on the sender thread"
  : "HTTP requests on the main thread";
const out = [
  `bench:notify – ${where}; ${sender}; Node ${process.version}; ${SECONDS} s per rate, batches of ${PER_REQUEST} events over ${VMS} VMs`,
  ``,
  `1. event -> webhook received (memory_error.detected)`,
  `   offered/s  ingested/s  received      p50       p90       p99       max   ingest ack p50/p99`,
  ...results.map(
    (r) =>
      `   ${r.label.padStart(9)}  ${r.achieved.toFixed(0).padStart(10)}  ${(r.total ? `${r.received}/${r.total}` : "–").padStart(9)}  ${ms(pct(r.e2e, 50)).padStart(8)}  ${ms(pct(r.e2e, 90)).padStart(8)}  ${ms(pct(r.e2e, 99)).padStart(8)}  ${ms(pct(r.e2e, 100)).padStart(8)}   ${ms(pct(r.ack, 50))} / ${ms(pct(r.ack, 99))}${r.failed ? `  (${r.failed} failed requests)` : ""}`,
  ),
  `   * no subscriber: ingestion alone at the same offered load, for comparison`,
  ``,
  `2. one incident.opened to ${FANOUT} endpoints`,
  `   delivered ${fanArrivals().length}/${FANOUT}${fanDone ? "" : " (timed out)"} in ${fanSeconds.toFixed(2)} s = ${(fanArrivals().length / fanSeconds).toFixed(0)} deliveries/s (event acknowledged in ${ms(fanAck)})`,
  `   raw POST loop, ${RAW_CONCURRENCY} at a time, keep-alive connections: ${FANOUT} in ${rawSeconds.toFixed(2)} s = ${(FANOUT / rawSeconds).toFixed(0)} requests/s`,
  `   deliverer / raw loop: ${((rawSeconds / fanSeconds) * 100).toFixed(0)}%`,
  ``,
  `3. chat and paging channels (webhook, Slack, Teams, PagerDuty; each renders its own message)`,
  `   a. event -> first channel message, ${CHANNEL_RATE} events/s offered for ${SECONDS} s, an incident opened every ${OPEN_EVERY} events (${openedAt.size} incidents)`,
  `      ingest ack p50/p99 ${ms(pct(chAck, 50))} / ${ms(pct(chAck, 99))}${chFailed ? ` (${chFailed} failed requests)` : ""}; the same load without subscriptions, just before: ${ms(pct(chBase.ack, 50))} / ${ms(pct(chBase.ack, 99))}${chBase.failed ? ` (${chBase.failed} failed requests)` : ""}`,
  `      kind        received      p50       p90       p99       max`,
  ...[...chByKind, { kind: "first of any", e2e: chAny }].map(
    (r) =>
      `      ${r.kind.padEnd(12)} ${`${r.e2e.length}/${openedAt.size}`.padStart(8)}  ${ms(pct(r.e2e, 50)).padStart(8)}  ${ms(pct(r.e2e, 90)).padStart(8)}  ${ms(pct(r.e2e, 99)).padStart(8)}  ${ms(pct(r.e2e, 100)).padStart(8)}`,
  ),
  `   b. one incident.opened to ${MIXED} subscriptions of four kinds (${mixByKind})`,
  `      delivered ${mixGot.length}/${MIXED}${mixDone ? "" : " (timed out)"} in ${mixSeconds.toFixed(2)} s = ${(mixGot.length / mixSeconds).toFixed(0)} deliveries/s, first after ${ms(mixFirst)} (event acknowledged in ${ms(mixAck)})`,
  `      raw POST loop, ${RAW_CONCURRENCY} at a time, keep-alive connections: ${MIXED} in ${mixRawSeconds.toFixed(2)} s = ${(MIXED / mixRawSeconds).toFixed(0)} requests/s`,
  `      deliverer / raw loop: ${((mixRawSeconds / mixSeconds) * 100).toFixed(0)}%`,
];
process.stdout.write(out.join("\n") + "\n");

receiver.postMessage("stop");
await stopBoss();
await handle.close();
await cleanup();
process.exit(0);
