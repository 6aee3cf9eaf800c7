import { getDbHandle } from "@/db";
import { bootstrap, printBanner } from "@/server/bootstrap";
import { now } from "@/server/clock";
import { env } from "@/server/env";
import { setWorkerProbe } from "@/server/readiness";
import { startWorkers, workersRunning } from "@/server/jobs/boss";
import "@/server/jobs/workers";
import { log } from "@/server/log";
import { runMaintenance } from "@/server/maintenance";

const g = globalThis as unknown as {
  __pwStarted?: Promise<void>;
  __pwTimer?: NodeJS.Timeout;
};

export const MAINTENANCE_INTERVAL_MS = 15_000;

// In embedded mode everything runs in this one process (PGlite allows no other). On PostgreSQL,
// POISONWATCH_WORKERS=0 makes a web-only process and `npm run worker` runs the workers elsewhere.
export function startServices(
  opts: { web?: boolean } = { web: true },
): Promise<void> {
  g.__pwStarted ??= (async () => {
    const h = await getDbHandle();
    const r = await bootstrap(h.db);
    const runWorkers = h.kind === "pglite" || env().POISONWATCH_WORKERS !== "0";
    if (runWorkers) {
      await startWorkers(h);
      g.__pwTimer = setInterval(() => {
        runMaintenance(h.db, now()).catch((e) =>
          log.error("maintenance failed", { err: e }),
        );
      }, MAINTENANCE_INTERVAL_MS);
      g.__pwTimer.unref();
    }
    setWorkerProbe(() => !runWorkers || workersRunning());
    if (opts.web !== false) printBanner(r);
    else log.info("workers started", { database: h.kind });
  })().catch((e) => {
    log.error("startup failed", { err: e });
    process.stderr.write(`\n${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
  return g.__pwStarted;
}
