// Fleet mode of npm run simulate (--hosts N [--vms M] [--days D]): plays D days of a fleet's
// memory errors through the public API in minutes, acts as the control plane (moves each VM the
// policy evacuates to a healthy host), and reports what the policy did and how long ingestion and
// notification took. Event times are backdated over the last D days, so the policy window sees them.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export type FleetOptions = {
  base: string;
  token: string;
  hosts: number;
  vms: number;
  days: number;
  concurrency: number;
  seed: number;
  badHostRate: number;
  keepCallback: boolean;
  drainSeconds: number;
  runId: string;
};

const DAY_MS = 86400_000;
const SLICE_MS = 15 * 60_000;

// ---- small helpers -------------------------------------------------------------------------

function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
const fmtMs = (x: number) =>
  Number.isNaN(x)
    ? "–"
    : x >= 10_000
      ? `${(x / 1000).toFixed(1)} s`
      : `${Math.round(x)} ms`;
const dist = (xs: number[]) =>
  `p50 ${fmtMs(quantile(xs, 0.5))}, p95 ${fmtMs(quantile(xs, 0.95))}, p99 ${fmtMs(quantile(xs, 0.99))}, max ${fmtMs(Math.max(...xs))} (n=${xs.length})`;

async function pool<T>(
  items: T[],
  n: number,
  fn: (item: T, i: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

function client(base: string) {
  return async function call(
    method: string,
    path: string,
    token: string,
    body?: unknown,
    contentType = "application/json",
  ) {
    for (let attempt = 0; ; attempt++) {
      const r = await fetch(base + path, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { "content-type": contentType } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      if (r.status === 429 && attempt < 20) {
        await new Promise((res) =>
          setTimeout(res, 1000 * Number(r.headers.get("retry-after") ?? "1")),
        );
        continue;
      }
      if (r.status >= 400)
        throw new Error(
          `${method} ${path} → ${r.status} ${text.slice(0, 300)}`,
        );
      return { status: r.status, body: text ? JSON.parse(text) : null };
    }
  };
}

// ---- the world ------------------------------------------------------------------------------

type Vm = {
  id: string;
  tenant: string;
  project: string;
  host: string;
  placedAt: number;
};
type SimEvent = {
  at: number;
  vm: Vm;
  host: string;
  page: number | null;
  kernel: boolean;
  ao: boolean;
};

// A day of a fleet, roughly as fleets see it: most hosts have no uncorrectable error at all; a
// few have a failing DIMM whose errors spread over more and more pages; some hosts see one
// isolated error; a few VMs hit the same poisoned page again and again (a storm of repeats).
function planEvents(
  o: FleetOptions,
  vms: Vm[],
  hosts: string[],
  rnd: () => number,
  start: number,
) {
  const span = o.days * DAY_MS;
  const onHost = new Map<string, Vm[]>();
  for (const v of vms) onHost.set(v.host, [...(onHost.get(v.host) ?? []), v]);
  const events: SimEvent[] = [];
  const bad = hosts.filter(() => rnd() < o.badHostRate);
  let nextPage = 1;
  for (const h of bad) {
    const residents = onHost.get(h) ?? [];
    if (!residents.length) continue;
    // pages in the failing region appear over the span, accelerating; each is hit 1–6 times
    const pages = 4 + Math.floor(rnd() * 36);
    const onset = start + rnd() * span * 0.5;
    for (let p = 0; p < pages; p++) {
      const vm = residents[Math.floor(rnd() * residents.length)]!;
      const first = onset + Math.sqrt(rnd()) * (start + span - onset);
      const page = nextPage++;
      const hits = 1 + Math.floor(rnd() * rnd() * 6);
      for (let k = 0; k < hits; k++) {
        const at = Math.min(start + span - 1000, first + k * rnd() * 3600_000);
        events.push({
          at,
          vm,
          host: vm.host,
          page: rnd() < 0.04 ? null : page,
          kernel: rnd() < 0.02,
          ao: rnd() < 0.15,
        });
      }
    }
  }
  for (const h of hosts) {
    if (rnd() >= 0.03) continue;
    const residents = onHost.get(h) ?? [];
    if (!residents.length) continue;
    const vm = residents[Math.floor(rnd() * residents.length)]!;
    events.push({
      at: start + rnd() * span,
      vm,
      host: vm.host,
      page: nextPage++,
      kernel: rnd() < 0.03,
      ao: rnd() < 0.3,
    });
  }
  for (const vm of vms) {
    if (rnd() >= 0.002) continue;
    const page = nextPage++;
    const at0 = start + rnd() * span;
    const n = 50 + Math.floor(rnd() * 400);
    for (let k = 0; k < n; k++) {
      events.push({
        at: Math.min(start + span - 1000, at0 + k * 200),
        vm,
        host: vm.host,
        page: k % 7 === 0 ? page + 1 : page,
        kernel: false,
        ao: false,
      });
    }
  }
  events.sort((a, b) => a.at - b.at);
  return { events, badHosts: bad };
}

let seq = 0;
function cloudEvent(runId: string, e: SimEvent) {
  seq += 1;
  const mech = e.ao ? "sigbus" : seq % 3 === 0 ? "sigbus" : "kvm_exit_arm_sea";
  const gpa =
    e.page === null
      ? null
      : "0x" + (0x80000000 + e.page * 0x1000).toString(16).padStart(16, "0");
  const data: Record<string, unknown> = {
    vmId: e.vm.id,
    hostId: e.host,
    vcpu: seq % 8,
    arch: mech === "kvm_exit_arm_sea" ? "arm64" : "x86_64",
    mechanism: mech,
    guestMode: e.kernel ? "kernel" : "user",
  };
  if (mech === "kvm_exit_arm_sea") {
    data.actions = ["sea_injected", "page_unmapped"];
    data.armSea = gpa
      ? { flags: 1, esr: "0x0000000092000010", gva: "0x0000ffff9a2b3c40", gpa }
      : {
          flags: 0,
          esr: "0x0000000092000610",
          gva: "0x0000000000000000",
          gpa: "0x0000000000000000",
        };
  } else {
    data.actions = ["mce_injected", "page_unmapped"];
    data.sigbus = {
      code: e.ao ? "BUS_MCEERR_AO" : "BUS_MCEERR_AR",
      addrLsb: 12,
      ...(gpa ? { gpa } : {}),
    };
  }
  return {
    specversion: "1.0",
    id: `${runId}-${seq}`,
    source: `/hosts/${e.host}`,
    type: "vmm.memory_error.v1",
    time: new Date(e.at).toISOString(),
    subject: e.vm.id,
    data,
  };
}

// ---- the control plane and tenant receivers -----------------------------------------------

type Received = {
  kind: "callback" | "tenant";
  type: string;
  data: any;
  latencyMs: number;
  verified: boolean;
};

async function startReceivers() {
  const received: Received[] = [];
  let callbackSecret: string | null = null;
  const tenantSecrets = new Map<string, string>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const path = req.url ?? "/";
      const secret =
        path === "/callback" ? callbackSecret : tenantSecrets.get(path);
      let verified = false;
      try {
        if (secret) {
          new Webhook(secret).verify(body, {
            "webhook-id": String(req.headers["webhook-id"] ?? ""),
            "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
            "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
          });
          verified = true;
        }
      } catch {
        verified = false;
      }
      try {
        const p = JSON.parse(body) as {
          type: string;
          timestamp: string;
          data: any;
        };
        const from =
          p.type === "vm.evacuation_requested"
            ? p.data.requestedAt
            : p.timestamp;
        received.push({
          kind: path === "/callback" ? "callback" : "tenant",
          type: p.type,
          data: p.data,
          latencyMs: Date.now() - Date.parse(from),
          verified,
        });
      } catch {
        /* not ours */
      }
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    setCallbackSecret: (s: string) => (callbackSecret = s),
    setTenantSecret: (path: string, s: string) => tenantSecrets.set(path, s),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

// ---- the run --------------------------------------------------------------------------------

export async function runFleet(o: FleetOptions) {
  const call = client(o.base);
  const rnd = mulberry32(o.seed);
  const t0 = performance.now();
  const now = Date.now();
  const start = now - o.days * DAY_MS;
  const run = o.runId;
  console.log(
    `fleet simulation ${run}: ${o.hosts} hosts, ${o.vms} VMs, ${o.days} day(s) against ${o.base}`,
  );

  const rx = await startReceivers();
  if (!o.keepCallback) {
    const cb = await call("PUT", "/api/v1/admin/callback", o.token, {
      url: `${rx.base}/callback`,
      rotateSecret: true,
    });
    rx.setCallbackSecret(cb.body.secret);
    console.log(
      `· the control-plane callback now points at this simulator (${rx.base}/callback); set it back with PUT /api/v1/admin/callback`,
    );
  }

  // inventory: tenants of ~50 VMs, one project each, hosts spread over 3 zones
  const hosts = Array.from({ length: o.hosts }, (_, i) => `${run}-h${i + 1}`);
  const tenants = Array.from(
    { length: Math.max(1, Math.ceil(o.vms / 50)) },
    (_, i) => `${run}-t${i + 1}`,
  );
  const tokens = new Map<string, string>();
  const ts = performance.now();
  let tenantHooks = 0;
  let hookRefusal: string | null = null;
  await pool(tenants, o.concurrency, async (t) => {
    await call("PUT", `/api/v1/admin/tenants/${t}`, o.token, {
      name: `Simulated ${t}`,
      contactEmails: [`ops@${t}.example`],
    });
    await call("PUT", `/api/v1/admin/projects/${t}-p`, o.token, {
      tenantId: t,
      name: "prod",
    });
    const key = (
      await call("POST", `/api/v1/admin/tenants/${t}/api-keys`, o.token)
    ).body.key as string;
    const path = `/t/${t}`;
    try {
      const hook = await call("POST", "/api/v1/webhooks", key, {
        url: rx.base + path,
        eventTypes: [
          "incident.opened",
          "vm.evacuation_scheduled",
          "vm.evacuation_completed",
        ],
      });
      rx.setTenantSecret(path, hook.body.secret);
      tenantHooks += 1;
    } catch (e) {
      hookRefusal ??= e instanceof Error ? e.message : String(e);
    }
  });
  if (hookRefusal)
    console.log(
      `· tenant webhooks refused (start the server with WEBHOOK_ALLOW_PRIVATE=1 to measure them): ${String(hookRefusal).slice(0, 160)}`,
    );
  await pool(hosts, o.concurrency, async (h, i) => {
    await call("PUT", `/api/v1/admin/hosts/${h}`, o.token, {
      zone: `sim-${"abc"[i % 3]}`,
    });
    tokens.set(
      h,
      (await call("POST", `/api/v1/admin/hosts/${h}/tokens`, o.token)).body
        .token,
    );
  });
  const placedAt = start - 3600_000;
  const vms: Vm[] = Array.from({ length: o.vms }, (_, i) => {
    const tenant = tenants[Math.floor(i / 50)]!;
    return {
      id: `${run}-vm${i + 1}`,
      tenant,
      project: `${tenant}-p`,
      host: hosts[Math.floor(rnd() * hosts.length)]!,
      placedAt,
    };
  });
  await pool(vms, o.concurrency, async (v) => {
    await call("PUT", `/api/v1/admin/vms/${v.id}`, o.token, {
      projectId: v.project,
      name: v.id.slice(run.length + 1),
      zone: "sim",
      hostId: v.host,
      placedAt: new Date(v.placedAt).toISOString(),
    });
  });
  const setupMs = performance.now() - ts;
  console.log(
    `· inventory: ${tenants.length} tenants, ${hosts.length} hosts, ${vms.length} VMs in ${(setupMs / 1000).toFixed(1)} s`,
  );

  const { events, badHosts } = planEvents(o, vms, hosts, rnd, start);
  console.log(
    `· playing ${events.length} events (${badHosts.length} hosts with a failing DIMM) in ${Math.ceil((o.days * DAY_MS) / SLICE_MS)} slices of 15 simulated minutes`,
  );

  // replay slice by slice; after each, the control plane moves the VMs it was asked to evacuate
  const badSet = new Set(badHosts);
  const healthy = hosts.filter((h) => !badSet.has(h));
  const handled = new Set<string>();
  const postMs: number[] = [];
  const totals = { accepted: 0, duplicates: 0, rejected: 0 };
  let moves = 0;
  let sent = 0;
  const tp = performance.now();
  let i = 0;
  for (
    let sliceEnd = start + SLICE_MS;
    i < events.length;
    sliceEnd += SLICE_MS
  ) {
    const batchByHost = new Map<string, unknown[]>();
    for (; i < events.length && events[i]!.at < sliceEnd; i++) {
      const e = events[i]!;
      // a VM the control plane moved no longer sits on the memory these errors come from
      if (e.vm.host !== e.host) continue;
      const list = batchByHost.get(e.host) ?? [];
      list.push(cloudEvent(run, e));
      sent += 1;
      batchByHost.set(e.host, list);
    }
    const batches = [...batchByHost].flatMap(([h, list]) => {
      const out: [string, unknown[]][] = [];
      for (let k = 0; k < list.length; k += 500)
        out.push([h, list.slice(k, k + 500)]);
      return out;
    });
    await pool(batches, o.concurrency, async ([h, list]) => {
      const t = performance.now();
      const r = await call(
        "POST",
        "/api/v1/events",
        tokens.get(h)!,
        list,
        "application/cloudevents-batch+json",
      );
      postMs.push(performance.now() - t);
      totals.accepted += r.body.accepted;
      totals.duplicates += r.body.duplicates;
      totals.rejected += r.body.rejected;
    });
    moves += await controlPlane(sliceEnd);
  }
  const playMs = performance.now() - tp;

  // the control plane: callbacks if they reach us, else the evacuation list
  async function controlPlane(simNow: number): Promise<number> {
    const ids = o.keepCallback
      ? await listScheduled()
      : rx.received
          .filter(
            (r) =>
              r.kind === "callback" && r.type === "vm.evacuation_requested",
          )
          .map((r) => ({
            id: r.data.evacuationId as string,
            vmId: r.data.vmId as string,
          }));
    let n = 0;
    for (const { id, vmId } of ids) {
      if (handled.has(id)) continue;
      handled.add(id);
      const vm = vms.find((v) => v.id === vmId);
      if (!vm) continue;
      const target = healthy[Math.floor(rnd() * healthy.length)] ?? hosts[0]!;
      const at = Math.max(simNow, vm.placedAt + 1000);
      await call("PUT", `/api/v1/admin/vms/${vm.id}`, o.token, {
        projectId: vm.project,
        name: vm.id.slice(run.length + 1),
        zone: "sim",
        hostId: target,
        placedAt: new Date(at).toISOString(),
      });
      vm.host = target;
      vm.placedAt = at;
      n += 1;
    }
    return n;
  }
  async function listScheduled() {
    const out: { id: string; vmId: string }[] = [];
    let cursor: string | null = null;
    do {
      const r: {
        body: {
          data: { id: string; vmId: string }[];
          nextCursor: string | null;
        };
      } = await call(
        "GET",
        `/api/v1/admin/evacuations?status=scheduled&limit=500${cursor ? `&cursor=${cursor}` : ""}`,
        o.token,
      );
      out.push(...r.body.data.filter((e) => e.vmId.startsWith(`${run}-`)));
      cursor = r.body.nextCursor;
    } while (cursor);
    return out;
  }

  // what the policy did to this run's fleet
  type Evac = {
    id: string;
    vmId: string;
    hostId: string;
    reason: string;
    status: string;
  };
  async function listRunEvacuations() {
    const out: Evac[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { data: Evac[]; nextCursor: string | null } } =
        await call(
          "GET",
          `/api/v1/admin/evacuations?limit=500${cursor ? `&cursor=${cursor}` : ""}`,
          o.token,
        );
      out.push(...r.body.data.filter((e) => e.vmId.startsWith(`${run}-`)));
      cursor = r.body.nextCursor;
    } while (cursor);
    return out;
  }

  // wait for the notifications the run caused
  const expectCallbacks = o.keepCallback
    ? 0
    : (await listRunEvacuations()).length;
  const drainUntil = Date.now() + o.drainSeconds * 1000;
  while (
    Date.now() < drainUntil &&
    rx.received.filter((r) => r.kind === "callback").length < expectCallbacks
  ) {
    await new Promise((r) => setTimeout(r, 250));
  }
  if (!o.keepCallback) moves += await controlPlane(now);
  await new Promise((r) =>
    setTimeout(r, Math.min(5000, o.drainSeconds * 1000)),
  );

  const hostStates = { healthy: 0, degraded: 0, evacuate: 0 } as Record<
    string,
    number
  >;
  await pool(hosts, o.concurrency, async (h) => {
    const r = await call("GET", `/api/v1/admin/hosts/${h}/health`, o.token);
    hostStates[r.body.state] = (hostStates[r.body.state] ?? 0) + 1;
  });

  const evacs = await listRunEvacuations();
  const byReason = new Map<string, number>();
  for (const e of evacs)
    byReason.set(e.reason, (byReason.get(e.reason) ?? 0) + 1);
  const evacuatedHosts = new Set(
    evacs.filter((e) => e.reason === "host_evacuate").map((e) => e.hostId),
  );
  const callbacks = rx.received.filter((r) => r.kind === "callback");
  const tenantMsgs = rx.received.filter((r) => r.kind === "tenant");
  const unverified = rx.received.filter((r) => !r.verified).length;

  console.log("\n=== fleet simulation report ===");
  console.log(
    `events: ${totals.accepted} accepted, ${totals.duplicates} duplicates, ${totals.rejected} rejected`,
  );
  console.log(
    `ingestion: ${sent} events sent (${events.length - sent} planned for VMs already moved away) in ${(playMs / 1000).toFixed(1)} s, ${Math.round(sent / (playMs / 1000))} events/s including the control plane's moves`,
  );
  console.log(`  POST /api/v1/events latency: ${dist(postMs)}`);
  console.log(
    `policy: ${new Set(evacs.map((e) => e.vmId)).size} VMs evacuated (${evacs.length} evacuations: ${[...byReason].map(([k, v]) => `${k} ${v}`).join(", ") || "none"})`,
  );
  console.log(
    `  hosts evacuated (host_evacuate): ${evacuatedHosts.size}; failing DIMMs simulated: ${badHosts.length}`,
  );
  console.log(
    `  host states now: ${hostStates.healthy} healthy, ${hostStates.degraded} degraded, ${hostStates.evacuate} evacuate`,
  );
  console.log(
    `  control plane: ${moves} VMs moved; ${evacs.filter((e) => e.status === "completed").length} evacuations completed by the move`,
  );
  if (!o.keepCallback)
    console.log(
      `notification: ${callbacks.length} callbacks (vm.evacuation_requested), latency from request ${dist(callbacks.map((c) => c.latencyMs))}`,
    );
  if (tenantHooks) {
    const types = new Map<string, number[]>();
    for (const m of tenantMsgs)
      types.set(m.type, [...(types.get(m.type) ?? []), m.latencyMs]);
    for (const [t, l] of types)
      console.log(
        `  tenant ${t}: ${l.length}, latency from message ${dist(l)}`,
      );
  }
  console.log(
    `  signatures: ${rx.received.length - unverified} verified with standardwebhooks, ${unverified} not`,
  );
  console.log(
    `inventory setup ${(setupMs / 1000).toFixed(1)} s; total ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  await rx.close();
}
