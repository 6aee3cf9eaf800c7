import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import type { Db } from "@/db/client";
import { dbKindOf, rawRows } from "@/db/client";
import {
  CHECKPOINT_EVERY_MS,
  checkpointEmbedded,
} from "@/server/embedded-checkpoint";
import { runMaintenance } from "@/server/maintenance";

// PGlite (single-user PostgreSQL) never checkpoints by itself while it runs; the maintenance tick
// does it for it (server/embedded-checkpoint.ts). A PostgreSQL server is left to its checkpointer.

async function lastCheckpoint(db: Db) {
  const [row] = await rawRows<{ redo: string; at: string | Date }>(
    db,
    sql`select redo_lsn::text as redo, checkpoint_time as at from pg_control_checkpoint()`,
  );
  return { redo: row!.redo, at: new Date(row!.at) };
}

// about 600 kB of log: well past "nothing written", far below CHECKPOINT_WAL_BYTES
async function write(db: Db) {
  await db.execute(
    sql`create table if not exists ck_rows (id serial primary key, filler text)`,
  );
  await db.execute(
    sql`insert into ck_rows (filler) select repeat('x', 200) from generate_series(1, 2000)`,
  );
}

describe("checkpoints of the embedded database", () => {
  it.runIf(!process.env.DATABASE_URL)(
    "checkpoints PGlite once its log is large, or five minutes after the last checkpoint when anything was written, and not otherwise",
    async () => {
      const db = await getDb();
      expect(dbKindOf(db)).toBe("pglite");
      // a known start: a checkpoint now (any log is "large" with walBytes 0)
      expect(await checkpointEmbedded(db, new Date(), { walBytes: 0 })).toBe(
        true,
      );
      const first = await lastCheckpoint(db);
      const later = (ms: number) => new Date(first.at.getTime() + ms);

      // nothing written since: not even long after
      expect(await checkpointEmbedded(db, later(CHECKPOINT_EVERY_MS * 3))).toBe(
        false,
      );
      await write(db);
      // written, but neither large nor old
      expect(await checkpointEmbedded(db, later(60_000))).toBe(false);
      expect((await lastCheckpoint(db)).redo).toBe(first.redo);
      // large enough for a smaller threshold
      expect(
        await checkpointEmbedded(db, later(60_000), { walBytes: 256 * 1024 }),
      ).toBe(true);
      const second = await lastCheckpoint(db);
      expect(second.redo).not.toBe(first.redo);

      // the maintenance tick five minutes on runs it
      await write(db);
      await runMaintenance(
        db,
        new Date(second.at.getTime() + CHECKPOINT_EVERY_MS + 1000),
      );
      const third = await lastCheckpoint(db);
      expect(third.redo).not.toBe(second.redo);
      const [since] = await rawRows<{ wal: string }>(
        db,
        sql`select (pg_current_wal_lsn() - redo_lsn)::text as wal from pg_control_checkpoint()`,
      );
      expect(Number(since!.wal)).toBeLessThan(64 * 1024);
    },
  );

  it.runIf(!!process.env.DATABASE_URL)(
    "leaves a PostgreSQL server to its own checkpointer",
    async () => {
      const db = await getDb();
      expect(dbKindOf(db)).toBe("postgres");
      await write(db);
      expect(
        await checkpointEmbedded(
          db,
          new Date(Date.now() + CHECKPOINT_EVERY_MS * 10),
          { walBytes: 0 },
        ),
      ).toBe(false);
    },
  );
});
