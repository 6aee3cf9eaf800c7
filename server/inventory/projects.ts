import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { projects, tenants } from "@/db/schema";
import { audit } from "@/server/audit";
import type { ServiceContext, TenantContext } from "@/server/context";
import { iso } from "@/server/core/time";
import { OperatorId } from "@/server/core/validation";
import { ConflictError, ValidationError } from "@/server/errors";

export const ProjectInput = z.strictObject({
  tenantId: OperatorId,
  name: z.string().trim().min(1).max(200),
});
export type ProjectInput = z.infer<typeof ProjectInput>;

export async function upsertProject(
  ctx: ServiceContext,
  input: ProjectInput & { id: string },
) {
  const { id, ...body } = input;
  return ctx.db.transaction(async (tx) => {
    const [tenant] = await tx
      .select({ id: tenants.id })
      .from(tenants)
      .where(eq(tenants.id, input.tenantId));
    if (!tenant)
      throw new ValidationError("Unknown tenant", [
        { path: "tenantId", message: `no tenant ${input.tenantId}` },
      ]);
    const [existing] = await tx
      .select()
      .from(projects)
      .where(eq(projects.id, id))
      .for("update");
    // moving a project to another tenant would hand its history to that tenant
    if (existing && existing.tenantId !== input.tenantId) {
      throw new ConflictError(
        `Project ${id} belongs to another tenant; a project cannot change tenants`,
      );
    }
    const t = ctx.now;
    const [row] = await tx
      .insert(projects)
      .values({
        id,
        tenantId: input.tenantId,
        name: input.name,
        createdAt: t,
        updatedAt: t,
      })
      .onConflictDoUpdate({
        target: projects.id,
        set: { name: input.name, updatedAt: t },
      })
      .returning();
    await audit(tx, {
      tenantId: input.tenantId,
      actor: ctx.actor,
      action: "project.upsert",
      target: id,
      details: body,
    });
    return {
      id: row!.id,
      tenantId: row!.tenantId,
      name: row!.name,
      createdAt: iso(row!.createdAt),
      updatedAt: iso(row!.updatedAt),
    };
  });
}

// The tenant's projects with their maintenance windows, for the console.
export async function listProjects(ctx: TenantContext) {
  const rows = await ctx.db
    .select({
      id: projects.id,
      name: projects.name,
      maintenanceWindow: projects.maintenanceWindow,
    })
    .from(projects)
    .where(eq(projects.tenantId, ctx.tenantId))
    .orderBy(asc(projects.id))
    .limit(500);
  return { data: rows };
}
