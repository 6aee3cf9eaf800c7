import { and, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { newId } from "@/db/ids";
import { hosts, projects, vmPlacements, vms } from "@/db/schema";
import { audit } from "@/server/audit";
import type { ServiceContext } from "@/server/context";
import { iso, Rfc3339 } from "@/server/core/time";
import { OperatorId } from "@/server/core/validation";
import { ConflictError, NotFoundError, ValidationError } from "@/server/errors";

export const VmInput = z.strictObject({
  projectId: OperatorId,
  name: z.string().trim().min(1).max(200),
  zone: z.string().trim().min(1).max(100),
  hostId: OperatorId.nullable(),
  placedAt: Rfc3339.optional(),
});
export type VmInput = z.infer<typeof VmInput>;

export type VmRow = typeof vms.$inferSelect;

// A VM the inventory learned or moved: what the other domains react to (server/vm-lifecycle.ts).
export type VmChange = {
  vmId: string;
  at: Date;
  previousHostId: string | null;
  hostId: string | null;
  isNew: boolean;
};

export async function vmAdminView(db: Db, vm: VmRow) {
  const placements = await db
    .select()
    .from(vmPlacements)
    .where(eq(vmPlacements.vmId, vm.id))
    .orderBy(desc(vmPlacements.startedAt))
    .limit(50);
  return {
    id: vm.id,
    tenantId: vm.tenantId,
    projectId: vm.projectId,
    name: vm.name,
    zone: vm.zone,
    hostId: vm.hostId,
    state: vm.hostId ? ("running" as const) : ("stopped" as const),
    placedAt: iso(vm.placedAt),
    createdAt: iso(vm.createdAt),
    updatedAt: iso(vm.updatedAt),
    placements: placements.map((p) => ({
      hostId: p.hostId,
      from: iso(p.startedAt),
      until: iso(p.endedAt),
    })),
  };
}

// The inventory's part of creating or moving a VM, inside the caller's transaction (ctx.db):
// returns the stored row and, when it is new or moved, the change the other domains follow.
export async function storeVm(
  ctx: ServiceContext,
  input: VmInput & { id: string },
): Promise<{ vm: VmRow; change: VmChange | null }> {
  const { id, ...body } = input;
  const tx = ctx.db;
  const [project] = await tx
    .select()
    .from(projects)
    .where(eq(projects.id, input.projectId));
  if (!project)
    throw new ValidationError("Unknown project", [
      { path: "projectId", message: `no project ${input.projectId}` },
    ]);
  if (input.hostId) {
    const [h] = await tx
      .select({ id: hosts.id })
      .from(hosts)
      .where(eq(hosts.id, input.hostId));
    if (!h)
      throw new ValidationError("Unknown host", [
        { path: "hostId", message: `no host ${input.hostId}` },
      ]);
  }
  const t = ctx.now;
  const at = input.placedAt ? new Date(input.placedAt) : t;
  // "no key update": ingestion holds the VM "for key share" while it writes its events, so an
  // upsert does not wait for it; a deletion does (removeVm)
  const [existing] = await tx
    .select()
    .from(vms)
    .where(eq(vms.id, id))
    .for("no key update");
  if (existing && existing.projectId !== input.projectId) {
    throw new ConflictError(
      `VM ${id} belongs to project ${existing.projectId}; a VM cannot change projects`,
    );
  }
  const moved = !existing || existing.hostId !== input.hostId;
  // a VM the inventory did not have is a new VM, even where a deleted one had its id
  const incarnation = existing?.incarnation ?? newId("vmi");
  if (existing && moved && at < existing.placedAt) {
    throw new ValidationError("placedAt is before the VM's current placement", [
      {
        path: "placedAt",
        message: `must not be before ${iso(existing.placedAt)}`,
      },
    ]);
  }
  if (moved) {
    await tx
      .update(vmPlacements)
      .set({ endedAt: at })
      .where(and(eq(vmPlacements.vmId, id), isNull(vmPlacements.endedAt)));
    await tx.insert(vmPlacements).values({
      id: newId("plc"),
      vmId: id,
      incarnation,
      tenantId: project.tenantId,
      projectId: project.id,
      hostId: input.hostId,
      startedAt: at,
    });
  }
  const values = {
    tenantId: project.tenantId,
    projectId: project.id,
    name: input.name,
    zone: input.zone,
    hostId: input.hostId,
    placedAt: moved ? at : existing!.placedAt,
    updatedAt: t,
  };
  const [row] = existing
    ? await tx.update(vms).set(values).where(eq(vms.id, id)).returning()
    : await tx
        .insert(vms)
        .values({ id, incarnation, ...values, createdAt: t })
        .returning();
  await audit(tx, {
    tenantId: project.tenantId,
    actor: ctx.actor,
    action: "vm.upsert",
    target: id,
    details: body,
  });
  const change =
    moved || !existing
      ? {
          vmId: id,
          at,
          previousHostId: existing?.hostId ?? null,
          hostId: input.hostId,
          isNew: !existing,
        }
      : null;
  return { vm: row!, change };
}

// The inventory's part of deleting a VM, inside the caller's transaction: its placement ends now.
export async function removeVm(
  ctx: ServiceContext,
  input: { id: string },
): Promise<VmRow> {
  const { id } = input;
  const [existing] = await ctx.db
    .select()
    .from(vms)
    .where(eq(vms.id, id))
    .for("update");
  if (!existing) throw new NotFoundError(`No VM ${id}`);
  await ctx.db
    .update(vmPlacements)
    .set({ endedAt: ctx.now })
    .where(and(eq(vmPlacements.vmId, id), isNull(vmPlacements.endedAt)));
  await ctx.db.delete(vms).where(eq(vms.id, id));
  return existing;
}
