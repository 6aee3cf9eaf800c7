// npm run worker: the pg-boss workers (webhooks, email, coalesced incident notifications) and the
// maintenance timer, in a process of their own beside the web server. PostgreSQL only.
// Run with scripts/server-only-shim.cjs preloaded (npm run worker does).
export {};
const { getDbHandle } = await import("@/db");
const { now } = await import("@/server/clock");
const { env } = await import("@/server/env");
const { startWorkers, stopBoss } = await import("@/server/jobs/boss");
await import("@/server/jobs/workers");
const { log } = await import("@/server/log");
const { runMaintenance } = await import("@/server/maintenance");
const MAINTENANCE_INTERVAL_MS = 15_000;

if (!env().DATABASE_URL) {
  process.stderr.write(
    "npm run worker needs DATABASE_URL (a PostgreSQL server).\n" +
      "With the embedded database (PGlite, no DATABASE_URL) the app process runs the workers itself:\n" +
      "an embedded data folder can be opened by one process only, so there is nothing to start here.\n",
  );
  process.exit(1);
}

const handle = await getDbHandle();
await startWorkers(handle);
log.info("workers started", {
  database: handle.kind,
  maintenanceEverySeconds: MAINTENANCE_INTERVAL_MS / 1000,
});

let running: Promise<void> | null = null;
const tick = () => {
  if (running) return;
  running = runMaintenance(handle.db, now())
    .catch((e: unknown) => log.error("maintenance failed", { err: e }))
    .finally(() => {
      running = null;
    });
};
tick();
const timer = setInterval(tick, MAINTENANCE_INTERVAL_MS);

let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    clearInterval(timer);
    log.info("workers stopping", { signal: sig });
    void (async () => {
      await running;
      await stopBoss();
      await handle.close();
      process.exit(0);
    })();
  });
}
