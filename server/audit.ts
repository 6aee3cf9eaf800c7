import { and, desc, eq, lt, or } from "drizzle-orm";
import type { Db } from "@/db/client";
import { newId } from "@/db/ids";
import { auditLog } from "@/db/schema";
import { now } from "@/server/clock";
import { decodeCursor, page } from "@/server/core/cursor";
import { iso } from "@/server/core/time";

export async function audit(
  db: Db,
  entry: {
    tenantId: string | null;
    actor: string;
    action: string;
    target?: string;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await db.insert(auditLog).values({
    id: newId("aud"),
    tenantId: entry.tenantId,
    actor: entry.actor,
    action: entry.action,
    target: entry.target ?? null,
    details: entry.details ?? null,
    at: now(),
  });
}

// tenantId null = the operator's view of every entry.
export async function listAuditLog(
  db: Db,
  opts: { tenantId: string | null; limit: number; cursor?: string },
) {
  const c = decodeCursor(opts.cursor, 2) as [string, string] | null;
  const conds = [];
  if (opts.tenantId !== null) conds.push(eq(auditLog.tenantId, opts.tenantId));
  if (c) {
    const at = new Date(c[0]);
    conds.push(
      or(lt(auditLog.at, at), and(eq(auditLog.at, at), lt(auditLog.id, c[1]))),
    );
  }
  const rows = await db
    .select()
    .from(auditLog)
    .where(conds.length ? and(...conds) : undefined)
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(opts.limit + 1);
  const p = page(rows, opts.limit, (r) => [iso(r.at), r.id]);
  return {
    data: p.data.map((r) => ({
      id: r.id,
      tenantId: r.tenantId,
      actor: r.actor,
      action: r.action,
      target: r.target,
      details: r.details,
      at: iso(r.at),
    })),
    nextCursor: p.nextCursor,
  };
}
