// npm run bench:console – server time of the console's incident page, logs explorer (filters,
// search, chart) and the live stamp with 1,000,000 log entries in the database, p50/p95, beside a
// static page, in one run against the
// production server (`next start`, built first if needed). Embedded PGlite in a fresh DATA_DIR by
// default; BENCH_DATABASE_URL=postgres://… runs it on a fresh database of that server instead.
//   BENCH_ENTRIES (1000000) BENCH_REQUESTS per page (200) BENCH_CONCURRENCY (1) BENCH_PORT (3291)
//   BENCH_PAGE_SECONDS (60: a slow page is timed for about this long, at least 20 requests)
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { ensureBuild } from "./bench/harness";

const ENTRIES = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 1);
const PORT = Number(process.env.BENCH_PORT ?? 3291);
// a page slower than this many seconds a request stops early (at least 20 timed requests)
const PAGE_SECONDS = Number(process.env.BENCH_PAGE_SECONDS ?? 60);
const BASE = `http://127.0.0.1:${PORT}`;
const OWNER = "owner@acme.example";

process.env.PUBLIC_URL = BASE;
process.env.POISONWATCH_DEMO = "1";
delete process.env.DATABASE_URL;
delete process.env.RESEND_API_KEY;
delete process.env.OPERATOR_TOKEN;

const { setDbHandle } = await import("@/db");
const { openPglite, openPostgres } = await import("@/db/client");
const { bootstrap } = await import("@/server/bootstrap");
const { createSignInLink } = await import("@/server/auth");
const { stopBoss } = await import("@/server/jobs/boss");
const { seedLogEntries } = await import("./seed-log-entries");

const { LIVE_POLL_MS } = await import("@/app/_components/live-poll");

const log = (s: string) => process.stdout.write(`${s}\n`);
const load0 = loadavg();
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

// ---- 1. a database with the demo tenants and ENTRIES log entries
let dataDir: string | undefined;
let dbUrl: string | undefined;
let dropDb: (() => Promise<void>) | undefined;
const pgBase = process.env.BENCH_DATABASE_URL;
if (pgBase) {
  const { default: postgres } = await import("postgres");
  const admin = postgres(pgBase, { max: 1, onnotice: () => {} });
  const name = `pw_bench_${process.pid}_${Date.now()}`;
  await admin.unsafe(`create database ${name}`);
  const u = new URL(pgBase);
  u.pathname = `/${name}`;
  dbUrl = u.toString();
  dropDb = async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
} else {
  dataDir = mkdtempSync(path.join(tmpdir(), "pw-bench-"));
}
log(
  `database: ${dbUrl ? `PostgreSQL (${new URL(dbUrl).pathname.slice(1)})` : `PGlite in ${dataDir}`}`,
);
const h = dbUrl ? await openPostgres(dbUrl) : await openPglite(dataDir!);
setDbHandle(h);
let t = performance.now();
await bootstrap(h.db);
log(`demo data: ${((performance.now() - t) / 1000).toFixed(1)} s`);
const link = await createSignInLink(h.db, OWNER, { callbackPath: "/overview" });
log(
  `seeding ${ENTRIES.toLocaleString("en")} log entries (INSERT … SELECT generate_series)…`,
);
const seeded = await seedLogEntries(h.db, {
  tenantId: "acme",
  count: ENTRIES,
  at: new Date(),
  log,
});
log(
  `seeded ${seeded.entries.toLocaleString("en")} entries in ${seeded.incidents} incidents: ${seeded.seconds.toFixed(1)} s`,
);
await stopBoss();
await h.close();
setDbHandle(undefined);

// ---- 2. the production server on that database
ensureBuild();
const serverEnv: NodeJS.ProcessEnv = {
  ...process.env,
  NEXT_TELEMETRY_DISABLED: "1",
  PORT: String(PORT),
  POISONWATCH_DEMO: "0",
  ...(dbUrl ? { DATABASE_URL: dbUrl } : { DATA_DIR: dataDir! }),
};
const server = spawn(
  "node_modules/.bin/next",
  ["start", "-p", String(PORT), "-H", "127.0.0.1"],
  { env: serverEnv, stdio: ["ignore", "ignore", "inherit"] },
);
const stop = async () => {
  server.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 500));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  await dropDb?.();
};
try {
  t = performance.now();
  for (;;) {
    try {
      const r = await fetch(`${BASE}/api/health`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (performance.now() - t > 120_000)
      throw new Error("server did not start");
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`server up: ${((performance.now() - t) / 1000).toFixed(1)} s`);

  // ---- 3. sign in through the one-time link, as a person would
  const signIn = await fetch(link, { redirect: "manual" });
  const cookie = signIn.headers
    .getSetCookie()
    .map((c) => c.split(";")[0])
    .join("; ");
  if (signIn.status !== 302 || !cookie.includes("session_token"))
    throw new Error(`sign-in failed (${signIn.status})`);

  const pages: { name: string; path: string; expect: string; auth: boolean }[] =
    [
      {
        name: "static page (prerendered 404)",
        path: "/bench-static-page",
        expect: "Not found",
        auth: false,
      },
      {
        name: `incident page (${ENTRIES_PER(seeded)} entries)`,
        path: `/incidents/${seeded.heaviestIncidentId}`,
        expect: seeded.heaviestIncidentId,
        auth: true,
      },
      {
        name: "logs explorer (last 7 days)",
        path: "/logs",
        expect: "log_bench",
        auth: true,
      },
      {
        name: "logs explorer (WARNING, acme-prod, 30 days)",
        path: "/logs?severity=WARNING&project=acme-prod&range=30d",
        expect: "log_bench",
        auth: true,
      },
      {
        name: "logs explorer (one VM, CRITICAL, 24 h)",
        path: "/logs?vm=acme-prod-db-1&severity=CRITICAL&range=24h",
        expect: "log_",
        auth: true,
      },
      {
        name: "logs explorer (search, 30 days)",
        path: "/logs?range=30d&q=uncorrectable+unmapped",
        expect: "log_bench",
        auth: true,
      },
      {
        name: "logs explorer (search + consumed + address, all time)",
        path: "/logs?range=all&q=page&consumed=true&address=0x100001000",
        expect: "log_bench",
        auth: true,
      },
      {
        name: "logs explorer (search, a rare word, all time)",
        path: "/logs?range=all&q=sigbus",
        expect: "log_",
        auth: true,
      },
      {
        name: "logs explorer (search, no match, all time)",
        path: "/logs?range=all&q=nosuchword",
        expect: "No log entries match",
        auth: true,
      },
      {
        name: "chart (logEntry.histogram, 7 days)",
        path: trpcGet("logEntry.histogram", {
          since: new Date(Date.now() - 7 * 86400_000).toISOString(),
        }),
        expect: '"bars"',
        auth: true,
      },
      {
        name: "logs explorer (search, all time)",
        path: "/logs?range=all&q=uncorrectable",
        expect: "log_bench",
        auth: true,
      },
      {
        name: "chart (logEntry.histogram, 30 days)",
        path: trpcGet("logEntry.histogram", {
          since: new Date(Date.now() - 30 * 86400_000).toISOString(),
        }),
        expect: '"bars"',
        auth: true,
      },
      {
        name: "chart (logEntry.histogram, search, 30 days)",
        path: trpcGet("logEntry.histogram", {
          since: new Date(Date.now() - 30 * 86400_000).toISOString(),
          q: "uncorrectable",
        }),
        expect: '"bars"',
        auth: true,
      },
      {
        name: `live stamp (incident.stamp, every ${LIVE_POLL_MS / 1000} s per open tab)`,
        path: trpcGet("incident.stamp", undefined),
        expect: '"stamp"',
        auth: true,
      },
    ];

  const once = async (p: (typeof pages)[number]) => {
    const s = performance.now();
    const r = await fetch(`${BASE}${p.path}`, {
      headers: p.auth ? { cookie } : {},
      redirect: "manual",
    });
    const body = await r.text();
    const ms = performance.now() - s;
    if (!body.includes(p.expect))
      throw new Error(`${p.path}: ${r.status}, body lacks ${p.expect}`);
    return ms;
  };

  log(
    `\n${REQUESTS} requests per page (fewer, at least 20, when a page takes more than ${PAGE_SECONDS} s) after 20 warm-up requests (5 s at most), ${CONCURRENCY} at a time; time to the last byte on loopback\n`,
  );
  const rows: string[][] = [
    ["page", "n", "p50", "p95", "max", "mean", "req/s"],
  ];
  const means = new Map<string, number>();
  for (const p of pages) {
    const w = performance.now();
    for (let i = 0; i < 20 && performance.now() - w < 5000; i++) await once(p);
    const times: number[] = [];
    const s = performance.now();
    let next = 0;
    const more = () =>
      next < REQUESTS &&
      (next < 20 || performance.now() - s < PAGE_SECONDS * 1000);
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (more()) {
          next++;
          times.push(await once(p));
        }
      }),
    );
    const wall = (performance.now() - s) / 1000;
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    means.set(p.path, mean);
    rows.push([
      p.name,
      String(times.length),
      `${pct(times, 50).toFixed(1)} ms`,
      `${pct(times, 95).toFixed(1)} ms`,
      `${Math.max(...times).toFixed(1)} ms`,
      `${mean.toFixed(1)} ms`,
      (times.length / wall).toFixed(0),
    ]);
    log(`  ${rows.at(-1)!.join(" · ")}`);
  }
  const widths = rows[0]!.map((_, i) =>
    Math.max(...rows.map((r) => r[i]!.length)),
  );
  for (const r of rows)
    log(
      r
        .map((c, i) =>
          i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!),
        )
        .join("   "),
    );
  // what the live view costs: every visible tab polls the stamp; a page refetches its data only
  // when the stamp changed (a real change, not counted here)
  const polls = 60_000 / LIVE_POLL_MS;
  const stampMs = means.get(trpcGet("incident.stamp", undefined))!;
  const staticMs = means.get("/bench-static-page")!;
  const perTab = polls * stampMs;
  log(
    `\nlive updates: ${polls} stamp polls per visible tab per minute × ${stampMs.toFixed(1)} ms mean = ${perTab.toFixed(0)} ms of server time per tab per minute` +
      ` (${((perTab / 60_000) * 100).toFixed(2)} % of one core); 100 tabs: ${((100 * perTab) / 1000).toFixed(1)} s per minute` +
      ` (${((100 * perTab) / 60_000).toFixed(2)} cores). Baseline: the same polls of the static page would cost ${(polls * staticMs).toFixed(0)} ms per tab per minute.` +
      ` Hidden tabs poll nothing.`,
  );
  log(
    `load average (1, 5, 15 min) at the start: ${load0.map((x) => x.toFixed(2)).join(", ")}; at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(", ")} (${cpus().length} cores)`,
  );
  log(
    `\ngoal: p95 < 150 ms for the incident page and the logs explorer (${dbUrl ? "PostgreSQL" : "PGlite"}, ${ENTRIES.toLocaleString("en")} log entries)`,
  );
} finally {
  await stop();
}

// A tRPC query as the browser sends it (GET, superjson input).
function trpcGet(path: string, input: unknown): string {
  return input === undefined
    ? `/api/trpc/${path}`
    : `/api/trpc/${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`;
}

function ENTRIES_PER(s: { entries: number; incidents: number }) {
  return Math.round(s.entries / s.incidents).toLocaleString("en");
}
