import { AsyncLocalStorage } from "node:async_hooks";
import { sql } from "drizzle-orm";
import type { PgBoss, SendOptions, WorkHandler, WorkOptions } from "pg-boss";
import type { Db, DbHandle } from "@/db/client";
import { log } from "@/server/log";

type WorkerDef = {
  queue: string;
  // the payload type is erased here: each queue's handler parses its own data
  handler: WorkHandler<never>;
  options?: WorkOptions;
};

const g = globalThis as unknown as {
  __pwBoss?: Promise<PgBoss>;
  __pwBossHandle?: DbHandle;
  // the handle whose pg-boss has finished starting
  __pwBossReady?: DbHandle;
  __pwWorkers?: Map<string, WorkerDef>;
  __pwWorking?: boolean;
  // the queues the started pg-boss has created
  __pwQueuesMade?: Set<string>;
};

// Every queue a worker is defined for (defineWorker adds it), plus the ones only sent to. The one
// list of workers is server/jobs/workers.ts; nothing here is named after a channel.
export const QUEUES: string[] = ["maintenance"];
export type QueueName = string;

// One pg-boss per database handle, on the same PGlite instance (fromPglite) or its own small pool.
export function getBoss(handle: DbHandle): Promise<PgBoss> {
  if (g.__pwBoss && g.__pwBossHandle === handle) return g.__pwBoss;
  g.__pwBossHandle = handle;
  g.__pwBoss = (async () => {
    const { PgBoss: Boss, fromPglite } = await import("pg-boss");
    const boss =
      handle.kind === "pglite"
        ? new Boss({
            db: fromPglite(handle.raw as never),
            backend: "pglite",
            useListenNotify: true,
          } as never)
        : new Boss({
            connectionString: postgresUrlOf(handle),
            max: 4,
            useListenNotify: true,
          } as never);
    boss.on("error", (e: unknown) => log.error("pg-boss error", { err: e }));
    await boss.start();
    const made = new Set<string>();
    for (const q of QUEUES) {
      await boss.createQueue(q, { notify: true } as never).catch(() => {});
      made.add(q);
    }
    g.__pwQueuesMade = made;
    g.__pwBossReady = handle;
    return boss;
  })();
  return g.__pwBoss;
}

function postgresUrlOf(handle: DbHandle): string {
  const raw = handle.raw as {
    options?: {
      host?: string[];
      port?: number[];
      user?: string;
      database?: string;
      pass?: string | null;
    };
  };
  const o = raw.options;
  if (!o) throw new Error("cannot derive the PostgreSQL URL for pg-boss");
  const auth = o.pass
    ? `${encodeURIComponent(o.user ?? "")}:${encodeURIComponent(o.pass)}`
    : encodeURIComponent(o.user ?? "");
  return `postgres://${auth}@${o.host?.[0] ?? "127.0.0.1"}:${o.port?.[0] ?? 5432}/${o.database}`;
}

// Enqueue inside the caller's transaction: the job exists exactly when the change commits. Jobs
// are wake-ups for rows the due-scans deliver anyway, so on PGlite, where a pg-boss not yet started
// cannot start inside a transaction (it would wait for the one connection the transaction holds),
// the job is left out.
export async function sendInTx(
  handle: DbHandle,
  tx: Db,
  queue: QueueName,
  data: object,
  options: SendOptions = {},
) {
  const collecting = collected.getStore();
  if (collecting) {
    collecting.push({ queue, data, options });
    return null;
  }
  if (handle.kind === "pglite" && g.__pwBossReady !== handle) return null;
  const { fromDrizzle } = await import("pg-boss");
  const boss = await getBoss(handle);
  if (!g.__pwQueuesMade?.has(queue)) {
    // a queue no worker of this process declared: PGlite cannot create it while the transaction
    // holds its one connection, and the due-scans deliver the rows anyway
    if (handle.kind === "pglite") return null;
    await boss.createQueue(queue, { notify: true } as never).catch(() => {});
    g.__pwQueuesMade?.add(queue);
  }
  return boss.send(queue, data, {
    ...options,
    db: fromDrizzle(tx as never, sql as never),
  });
}

// Work run in the embedded database's thread (./db-thread-tasks.ts) has no pg-boss there:
// its jobs are collected, and the main thread sends them once the transaction has committed
// (sendCommittedJobs). On PGlite the jobs are wake-ups for rows the due-scans deliver anyway, so a
// crash between the commit and the send delays a delivery by a due-scan, never loses it.
export type CollectedJob = {
  queue: QueueName;
  data: object;
  options: SendOptions;
};
const collected = new AsyncLocalStorage<CollectedJob[]>();

export async function collectJobs<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; jobs: CollectedJob[] }> {
  const jobs: CollectedJob[] = [];
  const result = await collected.run(jobs, fn);
  return { result, jobs };
}

export async function sendCommittedJobs(
  handle: DbHandle,
  jobs: CollectedJob[],
): Promise<void> {
  if (!jobs.length || g.__pwBossReady !== handle) return;
  const boss = await getBoss(handle);
  for (const j of jobs) {
    // as sendInTx on PGlite: a queue no worker of this process declared is left to the due-scans
    if (!g.__pwQueuesMade?.has(j.queue)) continue;
    await boss.send(j.queue, j.data, j.options).catch((err: unknown) =>
      log.warn("could not send a job after its commit", {
        queue: j.queue,
        err,
      }),
    );
  }
}

// Domains declare their workers; startWorkers() runs them in this process.
export function defineWorker<T>(
  queue: QueueName,
  handler: WorkHandler<T>,
  options?: WorkOptions,
): void {
  g.__pwWorkers ??= new Map();
  if (!QUEUES.includes(queue)) QUEUES.push(queue);
  g.__pwWorkers.set(queue, {
    queue,
    handler: handler as WorkHandler<never>,
    options,
  });
}

export async function startWorkers(handle: DbHandle): Promise<void> {
  const boss = await getBoss(handle);
  for (const w of g.__pwWorkers?.values() ?? []) {
    if (!g.__pwQueuesMade?.has(w.queue)) {
      await boss
        .createQueue(w.queue, { notify: true } as never)
        .catch(() => {});
      g.__pwQueuesMade?.add(w.queue);
    }
    await boss.work(w.queue, w.options ?? {}, w.handler);
  }
  g.__pwWorking = true;
}

export function workersRunning(): boolean {
  return g.__pwWorking === true;
}

export async function stopBoss(): Promise<void> {
  const b = g.__pwBoss;
  g.__pwBoss = undefined;
  g.__pwBossHandle = undefined;
  g.__pwBossReady = undefined;
  g.__pwWorking = false;
  if (b)
    await (
      await b
    )
      .stop({ graceful: true, wait: true } as never)
      .catch(() => {});
}
