// npm run bench:agent – the host agent's cost, each figure beside a baseline from the same run:
//   1. the spool's fsync: raw append+fdatasync of one line at a time vs the spool's appends, one at
//      a time and 64 at once (group commit);
//   2. throughput: events from the intake to acknowledged-by-service through the agent vs the same
//      1,000-event gzip batches POSTed straight to the service, one request at a time;
//   3. latency at a steady rate: each event's trip from the VMM's intake write to the service's
//      answer for its batch vs the event POSTed alone straight to the service.
// Against `next start` on a fresh embedded database; a small proxy in front of the service stamps
// when each event id's answer came back (both paths go through it).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { open } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { jsonLogger } from "@/agent/log";
import { Metrics } from "@/agent/metrics";
import { Spool } from "@/agent/spool";
import { ensureBuild, fmt, startServer } from "./bench/harness";
import { lineClient } from "@/tests/helpers/agent-kit";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const RATE = Number(process.env.BENCH_RATE ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FSYNCS = Number(process.env.BENCH_FSYNCS ?? 1000);
const OPERATOR = "pwo_bench_agent_operator_token_0000";
const quiet = jsonLogger(() => {});

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const rows: string[][] = [["measure", "baseline", "agent", "agent / baseline"]];
const row = (m: string, base: string, agent: string, ratio: string) =>
  rows.push([m, base, agent, ratio]);

async function benchFsync(root: string) {
  // the least an fsynced append can do: one positional write and one fdatasync, nothing else
  const f = await open(path.join(root, "raw.log"), "wx+");
  const line = Buffer.from(
    "0123abcd " +
      JSON.stringify({ id: "x".repeat(36), data: { pad: "y".repeat(400) } }) +
      "\n",
  );
  const raw: number[] = [];
  const t0 = process.hrtime.bigint();
  for (let i = 0, pos = 0; i < FSYNCS; i++, pos += line.length) {
    const t = process.hrtime.bigint();
    await f.write(line, 0, line.length, pos);
    await f.datasync();
    raw.push(ms(t));
  }
  const rawRate = FSYNCS / (ms(t0) / 1000);
  await f.close();
  const spool = await Spool.open(path.join(root, "spool"), {
    log: quiet,
    metrics: new Metrics(),
  });
  const json = line.subarray(9, -1).toString();
  const seq: number[] = [];
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < FSYNCS; i++) {
    const t = process.hrtime.bigint();
    await spool.append(json);
    seq.push(ms(t));
  }
  const seqRate = FSYNCS / (ms(t1) / 1000);
  const t2 = process.hrtime.bigint();
  const many = FSYNCS * 10;
  const lat: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next++ < many) {
        const t = process.hrtime.bigint();
        await spool.append(json);
        lat.push(ms(t));
      }
    }),
  );
  const groupRate = many / (ms(t2) / 1000);
  await spool.close();
  row(
    "append + fdatasync, one at a time (appends/s)",
    fmt(rawRate),
    fmt(seqRate),
    (seqRate / rawRate).toFixed(2),
  );
  row(
    "  p50 / p99 ms",
    `${pct(raw, 50).toFixed(2)} / ${pct(raw, 99).toFixed(2)}`,
    `${pct(seq, 50).toFixed(2)} / ${pct(seq, 99).toFixed(2)}`,
    "",
  );
  row(
    "spool, 64 writers at once (appends/s; p99 ms)",
    "",
    `${fmt(groupRate)}; ${pct(lat, 99).toFixed(2)}`,
    (groupRate / rawRate).toFixed(2) + " × raw",
  );
}

// forwards to the service, noting when each event id's answer came back
async function stampingProxy(target: string) {
  const answered = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(
          ([k]) =>
            ![
              "host",
              "connection",
              "content-length",
              "transfer-encoding",
            ].includes(k),
        ),
      ) as Record<string, string>;
      const r = await fetch(target + req.url, {
        method: req.method,
        headers,
        body,
      });
      const text = await r.text();
      const now = performance.now();
      if (r.status === 200) {
        const plain =
          req.headers["content-encoding"] === "gzip" ? gunzipSync(body) : body;
        const sent = JSON.parse(plain.toString()) as
          { id: string } | { id: string }[];
        for (const e of Array.isArray(sent) ? sent : [sent])
          answered.set(e.id, now);
      }
      const back = Object.fromEntries(r.headers);
      delete back["content-encoding"];
      delete back["content-length"];
      res.writeHead(r.status, back).end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answered,
    close: () => new Promise((r) => server.close(r)),
  };
}

async function call(base: string, method: string, p: string, body?: unknown) {
  const r = await fetch(base + p, {
    method,
    headers: {
      authorization: `Bearer ${OPERATOR}`,
      "content-type": "application/json",
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (r.status >= 400)
    throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<Record<string, string>>;
}

async function makeHost(base: string, id: string) {
  await call(base, "PUT", `/api/v1/admin/hosts/${id}`, { zone: "z" });
  const vms = Array.from({ length: 20 }, (_, i) => `${id}-vm${i}`);
  for (const vm of vms)
    await call(base, "PUT", `/api/v1/admin/vms/${vm}`, {
      projectId: "bench-p",
      name: vm,
      zone: "z",
      hostId: id,
      placedAt: "2020-01-01T00:00:00Z",
    });
  return {
    id,
    vms,
    token: (await call(base, "POST", `/api/v1/admin/hosts/${id}/tokens`))
      .token!,
  };
}

let page = 0;
const dataOf = (vmId: string) => {
  page += 1;
  return {
    vmId,
    mechanism: "sigbus",
    sigbus: {
      code: "BUS_MCEERR_AR",
      addrLsb: 12,
      gpa: "0x" + (0x100000000 + page * 0x1000).toString(16).padStart(16, "0"),
    },
  };
};
const cloudEvent = (host: { id: string }, data: ReturnType<typeof dataOf>) => ({
  specversion: "1.0",
  id: `direct-${page}-${Math.random().toString(36).slice(2)}`,
  source: `/hosts/${host.id}`,
  type: "vmm.memory_error.v1",
  time: new Date().toISOString(),
  subject: data.vmId,
  datacontenttype: "application/json",
  data: { ...data, hostId: host.id, arch: "x86_64" },
});

async function post(
  url: string,
  token: string,
  events: unknown,
  batch: boolean,
) {
  const r = await fetch(`${url}/api/v1/events`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": batch
        ? "application/cloudevents-batch+json"
        : "application/cloudevents+json",
      "content-encoding": "gzip",
    },
    body: gzipSync(JSON.stringify(events)),
  });
  if (r.status !== 200)
    throw new Error(`direct POST: ${r.status} ${await r.text()}`);
  await r.arrayBuffer();
}

function startAgent(
  bundle: string,
  root: string,
  name: string,
  url: string,
  host: { id: string; token: string },
) {
  const intake = path.join(root, `${name}.sock`);
  const child = spawn(
    process.execPath,
    [
      bundle,
      "--url",
      url,
      "--token",
      host.token,
      "--host",
      host.id,
      "--arch",
      "x86_64",
      "--spool-dir",
      path.join(root, `${name}-spool`),
      "--intake",
      intake,
    ],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return {
    intake,
    child,
    output: () => err,
    stop: () =>
      new Promise((r) => (child.once("exit", r), child.kill("SIGTERM"))),
  };
}

async function connect(intake: string) {
  for (let i = 0; ; i++) {
    try {
      return await lineClient(intake);
    } catch (e) {
      if (i > 100) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function main() {
  ensureBuild();
  const root = mkdtempSync(path.join(process.cwd(), ".data", "bench-agent-"));
  mkdirSync(root, { recursive: true });
  console.error("spool fsync…");
  await benchFsync(root);

  const bundle = path.join(root, "poisonwatch-agent.mjs");
  const b = spawnSync("node_modules/.bin/esbuild", [
    "agent/main.ts",
    "--bundle",
    "--platform=node",
    "--format=esm",
    "--target=node20",
    `--outfile=${bundle}`,
    "--log-level=error",
  ]);
  if (b.status !== 0) throw new Error(String(b.stderr));
  const server = await startServer({
    DATA_DIR: path.join(root, "data"),
    DATABASE_URL: undefined,
    POISONWATCH_DEMO: "0",
    OPERATOR_TOKEN: OPERATOR,
  });
  const proxy = await stampingProxy(server.url);
  try {
    await call(server.url, "PUT", "/api/v1/admin/tenants/bench", {
      name: "Bench",
      contactEmails: [],
    });
    await call(server.url, "PUT", "/api/v1/admin/projects/bench-p", {
      tenantId: "bench",
      name: "p",
    });
    const [hDirect, hAgent, hDirectLat, hAgentLat, hWarm] = await Promise.all(
      [
        "bench-direct",
        "bench-agent",
        "bench-direct-lat",
        "bench-agent-lat",
        "bench-warm",
      ].map((id) => makeHost(server.url, id)),
    );
    // warm-up (unmeasured): the routes compiled and the database's pages in
    for (let i = 0; i < 3; i++)
      await post(
        server.url,
        hWarm!.token,
        Array.from({ length: 1000 }, (_, k) =>
          cloudEvent(hWarm!, dataOf(hWarm!.vms[k % 20]!)),
        ),
        true,
      );

    console.error("throughput: direct…");
    const direct = Array.from({ length: EVENTS }, (_, i) =>
      cloudEvent(hDirect!, dataOf(hDirect!.vms[i % 20]!)),
    );
    let t = performance.now();
    for (let i = 0; i < EVENTS; i += 1000)
      await post(proxy.url, hDirect!.token, direct.slice(i, i + 1000), true);
    const directRate = EVENTS / ((performance.now() - t) / 1000);

    console.error(
      "throughput: through the agent (intake write → the service's answer for the last event)…",
    );
    const a = startAgent(bundle, root, "tput", proxy.url, hAgent!);
    const c = await connect(a.intake);
    const lines = Array.from(
      { length: EVENTS },
      (_, i) => JSON.stringify(dataOf(hAgent!.vms[i % 20]!)) + "\n",
    );
    t = performance.now();
    for (let i = 0; i < EVENTS; i += 1000)
      c.send(lines.slice(i, i + 1000).join(""));
    const ids = (await c.next(EVENTS, 600_000)).map(
      (l) => (JSON.parse(l) as { id: string }).id,
    );
    while (!ids.every((id) => proxy.answered.has(id)))
      await new Promise((r) => setTimeout(r, 5));
    const agentRate =
      EVENTS /
      ((Math.max(...ids.map((id) => proxy.answered.get(id)!)) - t) / 1000);
    c.close();
    await a.stop();
    row(
      `throughput, ${fmt(EVENTS)} events (events/s)`,
      fmt(directRate),
      fmt(agentRate),
      (agentRate / directRate).toFixed(2),
    );

    console.error(
      `latency at ${RATE} events/s: direct single POSTs, then the agent…`,
    );
    const n = RATE * SECONDS;
    const directTrips: number[] = [];
    const pace = 1000 / RATE;
    let start = performance.now();
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        await new Promise((r) =>
          setTimeout(r, Math.max(0, start + i * pace - performance.now())),
        );
        const e = cloudEvent(hDirectLat!, dataOf(hDirectLat!.vms[i % 20]!));
        const t0 = performance.now();
        await post(proxy.url, hDirectLat!.token, e, false);
        directTrips.push(proxy.answered.get(e.id)! - t0);
      }),
    );
    const al = startAgent(bundle, root, "lat", proxy.url, hAgentLat!);
    const lc = await connect(al.intake);
    const sentAt: number[] = [];
    start = performance.now();
    for (let i = 0; i < n; i++) {
      await new Promise((r) =>
        setTimeout(r, Math.max(0, start + i * pace - performance.now())),
      );
      sentAt.push(performance.now());
      lc.send(JSON.stringify(dataOf(hAgentLat!.vms[i % 20]!)) + "\n");
    }
    const latIds = (await lc.next(n, 120_000)).map(
      (l) => (JSON.parse(l) as { id: string }).id,
    );
    while (!latIds.every((id) => proxy.answered.has(id)))
      await new Promise((r) => setTimeout(r, 5));
    const agentTrips = latIds.map(
      (id, i) => proxy.answered.get(id)! - sentAt[i]!,
    );
    lc.close();
    await al.stop();
    for (const p of [50, 99]) {
      const d = pct(directTrips, p);
      const g = pct(agentTrips, p);
      row(
        `trip at ${RATE} events/s, p${p} ms`,
        d.toFixed(1),
        g.toFixed(1),
        `+${(g - d).toFixed(1)} ms`,
      );
    }
  } catch (e) {
    console.error(server.output().slice(-3000));
    throw e;
  } finally {
    await proxy.close();
    await server.stop();
  }
  const widths = rows[0]!.map((_, i) =>
    Math.max(...rows.map((r) => r[i]!.length)),
  );
  for (const r of rows)
    console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  "));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
