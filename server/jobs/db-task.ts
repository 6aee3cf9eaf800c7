import { getDbHandle } from "@/db";
import type { Db } from "@/db/client";
import { dbThreadOf } from "@/db/client";
import type { PGliteProxy } from "@/db/pglite-proxy";
import { isClockOverridden, now } from "@/server/clock";
import { envGeneration } from "@/server/env";
import { log } from "@/server/log";
import type { CollectedJob } from "./boss";
import { sendCommittedJobs } from "./boss";
import type {
  DbTaskArgs,
  DbTaskName,
  DbTaskResult,
  DbTasks,
  TaskContext,
} from "./db-thread-tasks";

let warned = false;

// The embedded database's own thread when it runs tasks (./db-thread-tasks.ts), else null.
function taskThreadOf(db: Db): PGliteProxy | null {
  const thread = dbThreadOf(db);
  if (!thread || thread.hasTasks) return thread;
  if (!warned) {
    warned = true;
    log.warn(
      "the database thread runs no tasks: each statement is a round trip to it",
      { reason: thread.tasksProblem },
    );
  }
  return null;
}

// Whether tasks on `db` run in the embedded database's own thread.
export function runsInDbThread(db: Db): boolean {
  return taskThreadOf(db) !== null;
}

// Runs `fn` (the task `name` of DB_TASKS) on `db`: whole, in one message, in the database's own
// thread when it has one that runs tasks, else here. The types tie the name to the function.
export async function dbTask<K extends DbTaskName>(
  db: Db,
  name: K,
  fn: DbTasks[K],
  ...args: DbTaskArgs<K>
): Promise<DbTaskResult<K>> {
  const thread = taskThreadOf(db);
  if (!thread)
    return (
      fn as unknown as (db: Db, ...a: DbTaskArgs<K>) => Promise<DbTaskResult<K>>
    )(db, ...args);
  const { result, jobs } = await thread.runTask<{
    result: DbTaskResult<K>;
    jobs: CollectedJob[];
  }>(name, args, {
    now: isClockOverridden() ? now().getTime() : null,
    env: envGeneration(),
  } satisfies TaskContext);
  await sendCommittedJobs(await getDbHandle(), jobs);
  return result;
}
