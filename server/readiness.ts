import { sql } from "drizzle-orm";
import type { Db } from "@/db/client";

type WorkerProbe = () => boolean;
const g = globalThis as unknown as { __pwWorkerProbe?: WorkerProbe };

export function setWorkerProbe(p: WorkerProbe): void {
  g.__pwWorkerProbe = p;
}

export async function checkHealth(db: Db) {
  let database = false;
  try {
    await db.execute(sql`select 1`);
    database = true;
  } catch {
    database = false;
  }
  const workers = g.__pwWorkerProbe ? g.__pwWorkerProbe() : false;
  return {
    status: database && workers ? ("ok" as const) : ("degraded" as const),
    database,
    workers,
  };
}
