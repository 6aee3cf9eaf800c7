import type { SendOptions } from "pg-boss";
import type { Db, DbHandle } from "@/db/client";
import { getDbHandle } from "@/db";
import { sendInTx } from "@/server/jobs/boss";
import type { QueueName } from "@/server/jobs/boss";

// Reads server/jobs/boss.ts's singleton without starting it.
function bossStarted(handle: DbHandle): Promise<boolean> {
  const g = globalThis as unknown as { __pwBoss?: Promise<unknown>; __pwBossHandle?: DbHandle };
  const p = g.__pwBoss;
  if (!p || g.__pwBossHandle !== handle) return Promise.resolve(false);
  return Promise.race([
    p.then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), 0)),
  ]);
}

// A notifier's wake-up job, in the caller's transaction. On PGlite a pg-boss that is not running
// yet cannot start inside a transaction (it would wait for the one connection this transaction
// holds), so the job is left out: the maintenance due-scan delivers the rows all the same.
export async function sendNotifyJob(tx: Db, queue: QueueName, data: object, options: SendOptions = {}): Promise<void> {
  const handle = await getDbHandle();
  if (handle.kind === "pglite" && !(await bossStarted(handle))) return;
  await sendInTx(handle, tx, queue, data, options);
}
