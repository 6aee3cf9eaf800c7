import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { hosts } from "@/db/schema";
import { audit } from "@/server/audit";
import type { ServiceContext } from "@/server/context";
import { iso } from "@/server/core/time";
import { NotFoundError } from "@/server/errors";

export const HostInput = z.strictObject({
  zone: z.string().trim().min(1).max(100),
});
export type HostInput = z.infer<typeof HostInput>;

export async function requireHost(db: Db, hostId: string) {
  const [h] = await db
    .select({ id: hosts.id })
    .from(hosts)
    .where(eq(hosts.id, hostId));
  if (!h) throw new NotFoundError(`No host ${hostId}`);
}

export async function upsertHost(
  ctx: ServiceContext,
  input: HostInput & { id: string },
) {
  const { id, ...body } = input;
  const t = ctx.now;
  const [row] = await ctx.db
    .insert(hosts)
    .values({ id, zone: input.zone, createdAt: t, updatedAt: t })
    .onConflictDoUpdate({
      target: hosts.id,
      set: { zone: input.zone, updatedAt: t },
    })
    .returning();
  await audit(ctx.db, {
    tenantId: null,
    actor: ctx.actor,
    action: "host.upsert",
    target: id,
    details: body,
  });
  return {
    id: row!.id,
    zone: row!.zone,
    createdAt: iso(row!.createdAt),
    updatedAt: iso(row!.updatedAt),
  };
}
