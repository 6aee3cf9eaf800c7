import "server-only";
import type { Db, DbHandle } from "./client";
import { openDatabase } from "./client";
import { dbEnv } from "./env";

export type { Db } from "./client";

// One database per process, shared by every route module and the workers (globalThis survives
// Next's per-route module instances and dev reloads).
const g = globalThis as unknown as {
  __pwDb?: Promise<DbHandle>;
  __pwDbHandle?: DbHandle;
};

export function getDbHandle(): Promise<DbHandle> {
  if (!g.__pwDb) {
    const { DATABASE_URL, DATA_DIR, PGLITE_THREAD } = dbEnv();
    g.__pwDb = openDatabase({
      url: DATABASE_URL,
      dataDir: DATA_DIR,
      pgliteThread: PGLITE_THREAD === "1",
    }).then((h) => {
      g.__pwDbHandle = h;
      return h;
    });
  }
  return g.__pwDb;
}

export async function getDb(): Promise<Db> {
  return (await getDbHandle()).db;
}

// Tests install a database of their own.
export function setDbHandle(h: DbHandle | undefined): void {
  g.__pwDb = h ? Promise.resolve(h) : undefined;
  g.__pwDbHandle = h;
}
