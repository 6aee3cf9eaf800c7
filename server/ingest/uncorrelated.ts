import { and, desc, eq, isNotNull } from "drizzle-orm";
import { z } from "zod";
import type { ServiceContext } from "@/server/context";
import { memoryErrorEvents } from "@/db/schema";
import { keysetAfter, ListQuery, page } from "@/server/core/cursor";
import { iso } from "@/server/core/time";
import { OperatorId } from "@/server/core/validation";

export const UncorrelatedQuery = ListQuery.extend({
  reason: z.enum(["unknown_vm", "host_mismatch"]).optional(),
  hostId: OperatorId.optional(),
});

// Operator view of events no tenant was told about, newest first.
export async function listUncorrelatedEvents(
  ctx: ServiceContext,
  q: z.infer<typeof UncorrelatedQuery>,
) {
  const { db } = ctx;
  const conds = [
    isNotNull(memoryErrorEvents.uncorrelatedReason),
    keysetAfter(q.cursor, {
      at: memoryErrorEvents.receivedAt,
      id: memoryErrorEvents.id,
    }),
  ];
  if (q.reason) conds.push(eq(memoryErrorEvents.uncorrelatedReason, q.reason));
  if (q.hostId) conds.push(eq(memoryErrorEvents.hostId, q.hostId));
  const rows = await db
    .select()
    .from(memoryErrorEvents)
    .where(and(...conds))
    .orderBy(desc(memoryErrorEvents.receivedAt), desc(memoryErrorEvents.id))
    .limit(q.limit + 1);
  const p = page(rows, q.limit, (r) => [iso(r.receivedAt), r.id]);
  return {
    data: p.data.map((r) => ({
      id: r.id,
      receivedAt: iso(r.receivedAt),
      hostId: r.hostId,
      vmId: r.vmId,
      reason: r.uncorrelatedReason!,
      event: r.raw,
    })),
    nextCursor: p.nextCursor,
  };
}
