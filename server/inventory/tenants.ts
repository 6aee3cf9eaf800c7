import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { tenants } from "@/db/schema";
import { audit } from "@/server/audit";
import type { ServiceContext } from "@/server/context";
import { NotFoundError } from "@/server/errors";
import { iso } from "@/server/core/time";

export const Email = z.email().max(320);

export const TenantInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  contactEmails: z.array(Email).max(50),
});
export type TenantInput = z.infer<typeof TenantInput>;

export function tenantView(t: typeof tenants.$inferSelect) {
  return {
    id: t.id,
    name: t.name,
    contactEmails: t.contactEmails,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
  };
}

export async function requireTenant(db: Db, tenantId: string) {
  const [t] = await db
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(tenants.id, tenantId));
  if (!t) throw new NotFoundError(`No tenant ${tenantId}`);
}

export async function upsertTenant(
  ctx: ServiceContext,
  input: TenantInput & { id: string },
) {
  const { id, ...body } = input;
  const t = ctx.now;
  const contactEmails = [
    ...new Set(input.contactEmails.map((e) => e.toLowerCase())),
  ];
  const [row] = await ctx.db
    .insert(tenants)
    .values({ id, name: input.name, contactEmails, createdAt: t, updatedAt: t })
    .onConflictDoUpdate({
      target: tenants.id,
      set: { name: input.name, contactEmails, updatedAt: t },
    })
    .returning();
  await audit(ctx.db, {
    tenantId: id,
    actor: ctx.actor,
    action: "tenant.upsert",
    target: id,
    details: body,
  });
  return tenantView(row!);
}
