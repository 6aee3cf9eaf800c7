import { getDbHandle } from "@/db";
import type { Db } from "@/db/client";
import { dbThreadOf } from "@/db/client";
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

// Whether tasks on `db` run in the embedded database's own thread (./db-thread-tasks.ts).
export function runsInDbThread(db: Db): boolean {
  const thread = dbThreadOf(db);
  if (thread && !thread.hasTasks && !warned) {
    warned = true;
    log.warn(
      "the database thread runs no tasks: each statement is a round trip to it",
      { reason: thread.tasksProblem },
    );
  }
  return thread?.hasTasks ?? false;
}

// Runs `fn` (the task `name` of DB_TASKS) on `db`: whole, in one message, in the database's own
// thread when it has one that runs tasks, else here. The types tie the name to the function.
export async function dbTask<K extends DbTaskName>(
  db: Db,
  name: K,
  fn: DbTasks[K],
  ...args: DbTaskArgs<K>
): Promise<DbTaskResult<K>> {
  if (!runsInDbThread(db))
    return (
      fn as unknown as (db: Db, ...a: DbTaskArgs<K>) => Promise<DbTaskResult<K>>
    )(db, ...args);
  const { result, jobs } = await dbThreadOf(db)!.runTask<{
    result: DbTaskResult<K>;
    jobs: CollectedJob[];
  }>(name, args, {
    now: isClockOverridden() ? now().getTime() : null,
    env: envGeneration(),
  } satisfies TaskContext);
  await sendCommittedJobs(await getDbHandle(), jobs);
  return result;
}
