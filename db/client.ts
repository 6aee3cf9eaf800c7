import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import type { ExtractTablesWithRelations, SQL } from "drizzle-orm";
import { sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { PGlite } from "@electric-sql/pglite";
import type { PGliteProxy } from "./pglite-proxy";
import * as schema from "./schema";

export type Schema = typeof schema;
// Both drivers' databases and their transactions are PgDatabase subclasses.
export type Db = PgDatabase<
  PgQueryResultHKT,
  Schema,
  ExtractTablesWithRelations<Schema>
>;

export type DbHandle = {
  db: Db;
  kind: "pglite" | "postgres";
  // raw driver: PGlite instance or postgres.js Sql
  raw: unknown;
  close: () => Promise<void>;
};

export const MIGRATIONS_DIR = path.join(process.cwd(), "db", "migrations");

export class DataDirLockedError extends Error {}

function isPoisonwatchProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // a recycled pid of an unrelated program must not lock us out forever
    const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /node|next/.test(cmd);
  } catch {
    return true;
  }
}

// One process per PGlite folder: two processes silently lose committed rows.
export function acquireDataDirLock(dataDir: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, "poisonwatch.pid");
  for (let i = 0; i < 5; i++) {
    try {
      const fd = openSync(lockPath, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      const release = () => {
        try {
          if (readFileSync(lockPath, "utf8").trim() === String(process.pid))
            unlinkSync(lockPath);
        } catch {
          /* already gone */
        }
      };
      process.once("exit", release);
      return release;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number.parseInt(readFileSync(lockPath, "utf8").trim(), 10);
      if (
        Number.isFinite(pid) &&
        pid !== process.pid &&
        isPoisonwatchProcess(pid)
      ) {
        throw new DataDirLockedError(
          `DATA_DIR ${path.resolve(dataDir)} is in use by another Poisonwatch process (pid ${pid}). ` +
            `The embedded database can be opened by one process only: stop that process, ` +
            `or set DATABASE_URL to share a PostgreSQL server between processes.`,
        );
      }
      // stale lock of a dead process (e.g. after SIGKILL)
      try {
        unlinkSync(lockPath);
      } catch {
        /* raced with another starter */
      }
    }
  }
  throw new DataDirLockedError(`Could not take the lock ${lockPath}`);
}

export async function openPostgres(
  url: string,
  opts: { migrate?: boolean; max?: number } = {},
): Promise<DbHandle> {
  const { default: postgres } = await import("postgres");
  const { drizzle } = await import("drizzle-orm/postgres-js");
  const client = postgres(url, { max: opts.max ?? 10, onnotice: () => {} });
  const db = drizzle(client, { schema, casing: "snake_case" }) as unknown as Db;
  if (opts.migrate !== false) {
    const { migrate } = await import("drizzle-orm/postgres-js/migrator");
    // several processes may start at once against one server: migrate under a session lock on
    // a single-connection client
    const m = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await m`select pg_advisory_lock(727272)`;
      await migrate(drizzle(m, { schema }), {
        migrationsFolder: MIGRATIONS_DIR,
      });
      await m`select pg_advisory_unlock(727272)`;
    } finally {
      await m.end({ timeout: 5 });
    }
  }
  return {
    db,
    kind: "postgres",
    raw: client,
    close: () => client.end({ timeout: 5 }),
  };
}

// PGlite in this process. With `thread`, the database runs in a worker thread of its own
// (db/pglite-worker.mjs) behind the same interface, so its WebAssembly never holds up this thread;
// the data-dir lock stays this process's.
export async function openPglite(
  dataDir: string,
  opts: {
    migrate?: boolean;
    lock?: boolean;
    loadDataDir?: Blob | File;
    thread?: boolean;
    // with `thread`: whole pieces of work run in the thread (db/thread-tasks.mjs); default true
    threadTasks?: boolean;
    // benchmarks: each statement's text, time in PGlite and rows (main thread only)
    onStatement?: (text: string, ms: number, rows: number) => void;
  } = {},
): Promise<DbHandle> {
  const inMemory = dataDir.startsWith("memory://");
  const release =
    !inMemory && opts.lock !== false ? acquireDataDirLock(dataDir) : () => {};
  try {
    if (!inMemory) mkdirSync(dataDir, { recursive: true });
    const pgDir = inMemory ? dataDir : path.join(dataDir, "pg");
    const load = opts.loadDataDir ? { loadDataDir: opts.loadDataDir } : {};
    const client = opts.thread
      ? ((await (
          await import("./pglite-proxy")
        ).PGliteProxy.create(pgDir, {
          ...load,
          tasks: opts.threadTasks ?? true,
        })) as unknown as PGlite)
      : await (
          await import("./pglite-open.mjs")
        ).openPgliteClient(pgDir, { ...load, onStatement: opts.onStatement });
    const db = await pgliteDb(client);
    if (opts.migrate !== false) {
      const { drizzle } = await import("drizzle-orm/pglite");
      const { migrate } = await import("drizzle-orm/pglite/migrator");
      await migrate(drizzle(client, { schema }), {
        migrationsFolder: MIGRATIONS_DIR,
      });
    }
    return {
      db,
      kind: "pglite",
      raw: client,
      close: async () => {
        await client.close();
        release();
      },
    };
  } catch (e) {
    release();
    throw e;
  }
}

// The app's Db on a PGlite client (in this thread, or the database thread's own).
export async function pgliteDb(client: PGlite): Promise<Db> {
  const { drizzle } = await import("drizzle-orm/pglite");
  return drizzle(client, { schema, casing: "snake_case" }) as unknown as Db;
}

// The database thread of a Db on PGlite with PGLITE_THREAD=1 (db/pglite-proxy.ts), else null.
export function dbThreadOf(db: Db): PGliteProxy | null {
  const client = (db as unknown as { $client?: unknown }).$client;
  return client instanceof Object && "runTask" in client
    ? (client as PGliteProxy)
    : null;
}

// The app's database: PostgreSQL at `url`, else PGlite in `dataDir`, on a thread of its own with
// `pgliteThread` (PGLITE_THREAD=1: the crash-safety tests and the whole suite pass on it, and the
// hot paths run there as whole tasks; off by default, because on a 2-core machine it measured no
// faster than the main thread, see README).
export async function openDatabase(opts: {
  url?: string;
  dataDir: string;
  pgliteThread?: boolean;
}): Promise<DbHandle> {
  return opts.url
    ? openPostgres(opts.url)
    : openPglite(opts.dataDir, { thread: opts.pgliteThread ?? false });
}

export function dataDirExists(dataDir: string): boolean {
  return existsSync(path.join(dataDir, "pg"));
}

// Which driver a database (not a transaction) runs on: postgres.js's client is a function,
// PGlite's an object.
export function dbKindOf(db: Db): DbHandle["kind"] {
  return typeof (db as unknown as { $client?: unknown }).$client === "function"
    ? "postgres"
    : "pglite";
}

// Rows of a raw query, whichever driver runs it.
export async function rawRows<T = Record<string, unknown>>(
  db: Db,
  query: SQL,
): Promise<T[]> {
  const res = (await db.execute(query)) as unknown;
  if (Array.isArray(res)) return res as T[];
  return ((res as { rows?: T[] }).rows ?? []) as T[];
}

export { sql };
