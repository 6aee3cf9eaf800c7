import { and, desc, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { newId } from "@/db/ids";
import { auditLog } from "@/db/schema";
import { now } from "@/server/clock";
import type { ServiceContext } from "@/server/context";
import { keysetAfter, page } from "@/server/core/cursor";
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
  ctx: ServiceContext,
  input: { tenantId: string | null; limit: number; cursor?: string },
) {
  const conds = [
    keysetAfter(input.cursor, { at: auditLog.at, id: auditLog.id }),
  ];
  if (input.tenantId !== null)
    conds.push(eq(auditLog.tenantId, input.tenantId));
  const rows = await ctx.db
    .select()
    .from(auditLog)
    .where(and(...conds))
    .orderBy(desc(auditLog.at), desc(auditLog.id))
    .limit(input.limit + 1);
  const p = page(rows, input.limit, (r) => [iso(r.at), r.id]);
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
