import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { dbKindOf, rawRows } from "@/db/client";
import { log } from "@/server/log";

// PGlite runs PostgreSQL in single-user mode, where nothing checkpoints while it runs: there is no
// checkpointer, and a standalone backend never asks for one when its log grows. Measured here,
// 300,000 log entries left 1.1 GB of WAL behind one checkpoint, still growing; a crash after
// 200,000 (700 MB) made the next start replay it all (5.8 s, against 0.9 s). So the embedded
// database is checkpointed from the maintenance tick, on PostgreSQL's own terms: once its log
// since the last checkpoint reaches CHECKPOINT_WAL_BYTES, or CHECKPOINT_EVERY_MS after the last
// one when anything was written since. PGlite does not fsync, so a checkpoint only hands dirty
// pages to the OS: 43 ms after 70 MB of log, 114 ms after 230 MB. A PostgreSQL server has its own
// checkpointer and is left alone.
export const CHECKPOINT_WAL_BYTES = 128 * 1024 * 1024;
export const CHECKPOINT_EVERY_MS = 5 * 60_000;
// the checkpoint record itself, and a little more, is not "anything written"
const IDLE_WAL_BYTES = 64 * 1024;

export async function checkpointEmbedded(
  db: Db,
  at: Date,
  opts: { walBytes?: number } = {},
): Promise<boolean> {
  if (dbKindOf(db) !== "pglite") return false;
  const [row] = await rawRows<{ wal: string; at: string | Date }>(
    db,
    sql`select (pg_current_wal_lsn() - redo_lsn)::text as wal, checkpoint_time as at
        from pg_control_checkpoint()`,
  );
  if (!row) return false;
  const wal = Number(row.wal);
  const since = at.getTime() - new Date(row.at).getTime();
  const due =
    wal >= (opts.walBytes ?? CHECKPOINT_WAL_BYTES) ||
    (wal > IDLE_WAL_BYTES && since >= CHECKPOINT_EVERY_MS);
  if (!due) return false;
  const started = performance.now();
  await db.execute(sql`checkpoint`);
  log.debug("embedded database checkpointed", {
    walBytes: wal,
    ms: Math.round(performance.now() - started),
  });
  return true;
}
