// npm run bench:storm – what a storm on one page costs each later event: one VM keeps reporting
// the same page (a repeat does not cross the VM's threshold, so the policy measures it after every
// batch), and a single event's ingestion (its transaction, the policy's evaluation included) is
// timed after 0, 10,000, 50,000 and 100,000 earlier events on that page, beside the same single
// event on a quiet VM of the same host in the same run (the baseline).
// PGlite in a fresh folder by default; BENCH_DATABASE_URL=postgres://… runs it on a scratch
// database of that server. In process (no HTTP): the figures are the database's and the policy's.
//   BENCH_STORM_SIZES (0,10000,50000,100000) BENCH_SAMPLES (30)
export {};
process.env.POISONWATCH_DEMO = "0";
const { mkdtempSync, rmSync } = await import("node:fs");
const { tmpdir } = await import("node:os");
const path = await import("node:path");
const { setDbHandle } = await import("@/db");
const { openPglite, openPostgres } = await import("@/db/client");
const { serviceContext } = await import("@/server/context");
const { upsertTenant } = await import("@/server/inventory/tenants");
const { upsertProject } = await import("@/server/inventory/projects");
const { upsertHost } = await import("@/server/inventory/hosts");
const { upsertVm } = await import("@/server/vm-lifecycle");
const { ingestEvents } = await import("@/server/ingest/ingest-events");
const { stopBoss } = await import("@/server/jobs/boss");

const SIZES = (process.env.BENCH_STORM_SIZES ?? "0,10000,50000,100000")
  .split(",")
  .map(Number);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 30);

let dataDir: string | undefined;
let drop: (() => Promise<void>) | undefined;
let handle;
const pgBase = process.env.BENCH_DATABASE_URL;
if (pgBase) {
  const { default: postgres } = await import("postgres");
  const admin = postgres(pgBase, { max: 1, onnotice: () => {} });
  const name = `pw_bench_storm_${process.pid}`;
  await admin.unsafe(`create database ${name}`);
  const u = new URL(pgBase);
  u.pathname = `/${name}`;
  handle = await openPostgres(u.toString());
  drop = async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
} else {
  dataDir = mkdtempSync(path.join(tmpdir(), "pw-bench-storm-"));
  handle = await openPglite(dataDir);
}
setDbHandle(handle);
const ctx = () => serviceContext(handle.db, "bench");
await upsertTenant(ctx(), { id: "bench", name: "Bench", contactEmails: [] });
await upsertProject(ctx(), { id: "bench-p", tenantId: "bench", name: "Bench" });
await upsertHost(ctx(), { id: "h0", zone: "z1" });
for (const vm of ["storm-vm", "quiet-vm"])
  await upsertVm(ctx(), {
    id: vm,
    projectId: "bench-p",
    name: vm,
    zone: "z1",
    hostId: "h0",
    placedAt: "2020-01-01T00:00:00Z",
  });

let seq = 0;
// both VMs repeat one page, so neither crosses its threshold: the policy measures both after
// every batch; the quiet VM has only the events this bench times
const event = (vmId: string, page: number) => {
  seq += 1;
  return {
    specversion: "1.0",
    id: `e-${seq}`,
    source: "/hosts/h0",
    type: "vmm.memory_error.v1",
    time: new Date().toISOString(),
    subject: vmId,
    data: {
      vmId,
      hostId: "h0",
      vcpu: 1,
      arch: "arm64",
      mechanism: "kvm_exit_arm_sea",
      guestMode: "user",
      actions: ["sea_injected", "page_unmapped"],
      armSea: {
        flags: 1,
        esr: "0x0000000092000010",
        gva: "0x0000ffff9a2b3c40",
        gpa: "0x" + (0x40000000 + page * 0x1000).toString(16).padStart(16, "0"),
      },
    },
  };
};
const ingest = (events: unknown[], mode: "single" | "batch") =>
  ingestEvents(serviceContext(handle.db, "bench"), {
    hostId: "h0",
    events,
    mode,
  });
const time = async (vmId: string) => {
  const xs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    await ingest([event(vmId, 1)], "single");
    xs.push(performance.now() - t);
  }
  xs.sort((a, b) => a - b);
  return {
    p50: xs[Math.floor(xs.length / 2)]!,
    p95: xs[Math.floor(xs.length * 0.95)]!,
  };
};

console.log(
  `database: ${pgBase ? "PostgreSQL" : "PGlite"}; one page of storm-vm repeated, quiet-vm one page`,
);
for (let i = 0; i < 20; i++) await ingest([event("quiet-vm", 1)], "single");
let stored = 0;
const rows: string[] = [];
for (const size of SIZES) {
  while (stored < size) {
    const n = Math.min(1000, size - stored);
    await ingest(
      Array.from({ length: n }, () => event("storm-vm", 1)),
      "batch",
    );
    stored += n;
  }
  const storm = await time("storm-vm");
  const quiet = await time("quiet-vm");
  stored += SAMPLES;
  rows.push(
    `| ${size.toLocaleString("en")} | ${storm.p50.toFixed(1)} / ${storm.p95.toFixed(1)} | ${quiet.p50.toFixed(1)} / ${quiet.p95.toFixed(1)} | ${(storm.p50 / quiet.p50).toFixed(2)}× |`,
  );
  console.log(rows.at(-1));
}
console.log(
  "\n| earlier events on the page | single event on the storm's VM, p50 / p95 ms | same on a quiet VM (baseline), p50 / p95 ms | ratio |",
);
console.log("|---|---|---|---|");
for (const r of rows) console.log(r);
await stopBoss();
await handle.close();
if (dataDir) rmSync(dataDir, { recursive: true, force: true });
await drop?.();
process.exit(0);
