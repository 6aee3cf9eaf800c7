import { getDbHandle } from "@/db";
import { bootstrap, printBanner } from "@/server/bootstrap";
import { log } from "@/server/log";

type Starter = (h: Awaited<ReturnType<typeof getDbHandle>>) => Promise<void>;
const g = globalThis as unknown as { __pwStarters?: Starter[]; __pwStarted?: Promise<void> };

// Domains that run in the background (workers, schedulers) register here.
export function registerBackgroundService(s: Starter): void {
  g.__pwStarters ??= [];
  g.__pwStarters.push(s);
}

export function startServices(): Promise<void> {
  g.__pwStarted ??= (async () => {
    const h = await getDbHandle();
    const r = await bootstrap(h.db);
    for (const s of g.__pwStarters ?? []) await s(h);
    printBanner(r);
  })().catch((e) => {
    log.error("startup failed", { err: e });
    process.exit(1);
  });
  return g.__pwStarted;
}
