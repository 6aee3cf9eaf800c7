import type { PGlite } from "@electric-sql/pglite";
import { setDbHandle } from "@/db";
import type { Db } from "@/db/client";
import { pgliteDb } from "@/db/client";
import { storeSubmissions } from "@/server/ingest/store-submissions";
import { setClock } from "@/server/clock";
import { resetEnvCache } from "@/server/env";
import {
  claimForDelivery,
  recordOutcomes,
} from "@/server/notify/webhook-worker";
import type { CollectedJob } from "./boss";
import { collectJobs } from "./boss";

// The one list of work that runs whole in the embedded database's own thread (PGLITE_THREAD=1),
// and the entry of the bundle that thread imports (db/thread-tasks.mjs). On that thread each
// statement sent from the main thread is a round trip, and under load each waits for a turn of a
// main thread busy reading requests: ingestion's group of ~17 statements took ~70 ms where its
// database work took ~25. A task is one message instead. Callers run a task with dbTask
// (./db-task.ts), which runs the same function on this thread when there is no database thread.
//
// A task's arguments and result cross threads by structured clone (Dates, Maps and Sets stay
// what they are; functions cannot cross). The jobs it sends are sent once it has committed.
export const DB_TASKS = {
  // ingestion's group transaction (server/ingest/ingest-events.ts)
  storeSubmissions,
  // the deliverer's database work before and after its HTTP (server/notify/webhook-worker.ts)
  claimForDelivery,
  recordOutcomes,
};
export type DbTasks = typeof DB_TASKS;
export type DbTaskName = keyof DbTasks;
export type DbTaskArgs<K extends DbTaskName> =
  Parameters<DbTasks[K]> extends [Db, ...infer A] ? A : never;
export type DbTaskResult<K extends DbTaskName> = Awaited<
  ReturnType<DbTasks[K]>
>;

// What of the main thread's state a task needs: the app clock's time when tests have set it
// (server/clock.ts), and which reading of the environment is current (server/env.ts).
export type TaskContext = { now: number | null; env: number };

let threadDb: Db | null = null;
let envSeen = -1;

// In the database's thread: runs one task on its own PGlite.
export async function runTask<K extends DbTaskName>(
  pg: PGlite,
  name: K,
  args: DbTaskArgs<K>,
  context: TaskContext,
): Promise<{ result: DbTaskResult<K>; jobs: CollectedJob[] }> {
  if (!threadDb) {
    threadDb = await pgliteDb(pg);
    // code that asks for the process's database (getDbHandle) gets this thread's own
    setDbHandle({
      db: threadDb,
      kind: "pglite",
      raw: pg,
      close: async () => {},
    });
  }
  const task = DB_TASKS[name] as unknown as (
    db: Db,
    ...a: DbTaskArgs<K>
  ) => Promise<DbTaskResult<K>>;
  // the time tests set on the main thread's clock holds here too
  const at = context.now;
  setClock(at === null ? undefined : () => new Date(at));
  if (context.env !== envSeen) {
    resetEnvCache();
    envSeen = context.env;
  }
  return collectJobs(() => task(threadDb!, ...args));
}
