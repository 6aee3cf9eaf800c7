import { and, asc, desc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { newId } from "@/db/ids";
import {
  apiKeys,
  hostTokens,
  hosts,
  memberships,
  projects,
  tenants,
  vmPlacements,
  vms,
} from "@/db/schema";
import { audit } from "@/server/audit";
import { hashToken, newSecretToken } from "@/server/auth-tokens";
import { now } from "@/server/clock";
import type { ServiceContext } from "@/server/context";
import { ConflictError, NotFoundError, ValidationError } from "@/server/errors";
import { iso, Rfc3339 } from "@/server/core/time";
import { OperatorId } from "@/server/core/validation";
import { runVmChangedHooks, runVmDeletedHooks } from "./hooks";

const Email = z.email().max(320);

export const TenantInput = z.strictObject({
  name: z.string().trim().min(1).max(200),
  contactEmails: z.array(Email).max(50),
});
export const ProjectInput = z.strictObject({
  tenantId: OperatorId,
  name: z.string().trim().min(1).max(200),
});
export const HostInput = z.strictObject({
  zone: z.string().trim().min(1).max(100),
});
export const VmInput = z.strictObject({
  projectId: OperatorId,
  name: z.string().trim().min(1).max(200),
  zone: z.string().trim().min(1).max(100),
  hostId: OperatorId.nullable(),
  placedAt: Rfc3339.optional(),
});
export const MemberInput = z.strictObject({
  email: Email,
  role: z.enum(["owner", "member", "viewer"]),
});

export type TenantInput = z.infer<typeof TenantInput>;
export type ProjectInput = z.infer<typeof ProjectInput>;
export type HostInput = z.infer<typeof HostInput>;
export type VmInput = z.infer<typeof VmInput>;
export type MemberInput = z.infer<typeof MemberInput>;

export function tenantView(t: typeof tenants.$inferSelect) {
  return {
    id: t.id,
    name: t.name,
    contactEmails: t.contactEmails,
    createdAt: iso(t.createdAt),
    updatedAt: iso(t.updatedAt),
  };
}

export async function upsertTenant(
  ctx: ServiceContext,
  id: string,
  input: TenantInput,
) {
  const t = now();
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
    details: input,
  });
  return tenantView(row!);
}

export async function upsertProject(
  ctx: ServiceContext,
  id: string,
  input: ProjectInput,
) {
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
    const t = now();
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
      details: input,
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

export async function upsertHost(
  ctx: ServiceContext,
  id: string,
  input: HostInput,
) {
  const t = now();
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
    details: input,
  });
  return {
    id: row!.id,
    zone: row!.zone,
    createdAt: iso(row!.createdAt),
    updatedAt: iso(row!.updatedAt),
  };
}

async function requireHost(db: Db, hostId: string) {
  const [h] = await db
    .select({ id: hosts.id })
    .from(hosts)
    .where(eq(hosts.id, hostId));
  if (!h) throw new NotFoundError(`No host ${hostId}`);
}

export async function createHostToken(ctx: ServiceContext, hostId: string) {
  await requireHost(ctx.db, hostId);
  const token = newSecretToken("host");
  const id = newId("htk");
  await ctx.db
    .insert(hostTokens)
    .values({ id, hostId, tokenHash: hashToken(token), createdAt: now() });
  await audit(ctx.db, {
    tenantId: null,
    actor: ctx.actor,
    action: "host_token.create",
    target: id,
    details: { hostId },
  });
  return { id, token };
}

export async function listHostTokens(db: Db, hostId: string) {
  await requireHost(db, hostId);
  const rows = await db
    .select()
    .from(hostTokens)
    .where(and(eq(hostTokens.hostId, hostId), isNull(hostTokens.revokedAt)))
    .orderBy(asc(hostTokens.createdAt));
  return {
    data: rows.map((r) => ({
      id: r.id,
      createdAt: iso(r.createdAt),
      lastUsedAt: iso(r.lastUsedAt),
    })),
    nextCursor: null,
  };
}

export async function revokeHostToken(
  ctx: ServiceContext,
  hostId: string,
  tokenId: string,
) {
  const res = await ctx.db
    .update(hostTokens)
    .set({ revokedAt: now() })
    .where(
      and(
        eq(hostTokens.id, tokenId),
        eq(hostTokens.hostId, hostId),
        isNull(hostTokens.revokedAt),
      ),
    )
    .returning({ id: hostTokens.id });
  if (!res.length)
    throw new NotFoundError(`No active token ${tokenId} on host ${hostId}`);
  await audit(ctx.db, {
    tenantId: null,
    actor: ctx.actor,
    action: "host_token.revoke",
    target: tokenId,
    details: { hostId },
  });
}

async function requireTenant(db: Db, tenantId: string) {
  const [t] = await db
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(tenants.id, tenantId));
  if (!t) throw new NotFoundError(`No tenant ${tenantId}`);
}

export async function createApiKey(
  ctx: ServiceContext,
  tenantId: string,
  name?: string,
) {
  await requireTenant(ctx.db, tenantId);
  const key = newSecretToken("tenant");
  const id = newId("key");
  await ctx.db.insert(apiKeys).values({
    id,
    tenantId,
    keyHash: hashToken(key),
    name: name ?? null,
    createdAt: now(),
  });
  await audit(ctx.db, {
    tenantId,
    actor: ctx.actor,
    action: "api_key.create",
    target: id,
  });
  return { id, key };
}

export async function listApiKeys(db: Db, tenantId: string) {
  await requireTenant(db, tenantId);
  const rows = await db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, tenantId), isNull(apiKeys.revokedAt)))
    .orderBy(asc(apiKeys.createdAt));
  return {
    data: rows.map((r) => ({
      id: r.id,
      name: r.name,
      createdAt: iso(r.createdAt),
      lastUsedAt: iso(r.lastUsedAt),
    })),
    nextCursor: null,
  };
}

export async function revokeApiKey(
  ctx: ServiceContext,
  tenantId: string,
  keyId: string,
) {
  const res = await ctx.db
    .update(apiKeys)
    .set({ revokedAt: now() })
    .where(
      and(
        eq(apiKeys.id, keyId),
        eq(apiKeys.tenantId, tenantId),
        isNull(apiKeys.revokedAt),
      ),
    )
    .returning({ id: apiKeys.id });
  if (!res.length) throw new NotFoundError(`No active API key ${keyId}`);
  await audit(ctx.db, {
    tenantId,
    actor: ctx.actor,
    action: "api_key.revoke",
    target: keyId,
  });
}

type MemberAddedHook = (
  db: Db,
  m: { tenantId: string; email: string; role: string; invitedBy: string },
) => Promise<void>;
const mg = globalThis as unknown as { __pwMemberHook?: MemberAddedHook };
export function onMemberAdded(h: MemberAddedHook) {
  mg.__pwMemberHook = h;
}

export async function addMember(
  ctx: ServiceContext,
  tenantId: string,
  input: MemberInput,
) {
  return ctx.db.transaction(async (tx) => {
    await requireTenant(tx, tenantId);
    const email = input.email.toLowerCase();
    const t = now();
    const [row] = await tx
      .insert(memberships)
      .values({
        id: newId("mem"),
        tenantId,
        email,
        role: input.role,
        createdAt: t,
        updatedAt: t,
      })
      .onConflictDoUpdate({
        target: [memberships.tenantId, memberships.email],
        set: { role: input.role, updatedAt: t },
      })
      .returning();
    await audit(tx, {
      tenantId,
      actor: ctx.actor,
      action: "member.add",
      target: email,
      details: { role: input.role },
    });
    await mg.__pwMemberHook?.(tx, {
      tenantId,
      email,
      role: input.role,
      invitedBy: ctx.actor,
    });
    return {
      id: row!.id,
      tenantId,
      email,
      role: row!.role,
      createdAt: iso(row!.createdAt),
    };
  });
}

export async function vmAdminView(db: Db, vm: typeof vms.$inferSelect) {
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

export async function upsertVm(
  ctx: ServiceContext,
  id: string,
  input: VmInput,
) {
  return ctx.db.transaction(async (tx) => {
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
    const t = now();
    const at = input.placedAt ? new Date(input.placedAt) : t;
    // "no key update": ingestion holds the VM "for key share" while it writes its events, so an
    // upsert does not wait for it; a deletion does (deleteVm)
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
      throw new ValidationError(
        "placedAt is before the VM's current placement",
        [
          {
            path: "placedAt",
            message: `must not be before ${iso(existing.placedAt)}`,
          },
        ],
      );
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
      details: input,
    });
    if (moved || !existing) {
      await runVmChangedHooks(tx, {
        vmId: id,
        at,
        previousHostId: existing?.hostId ?? null,
        hostId: input.hostId,
        isNew: !existing,
      });
    }
    return vmAdminView(tx, row!);
  });
}

export async function deleteVm(ctx: ServiceContext, id: string) {
  await ctx.db.transaction(async (tx) => {
    const [existing] = await tx
      .select()
      .from(vms)
      .where(eq(vms.id, id))
      .for("update");
    if (!existing) throw new NotFoundError(`No VM ${id}`);
    const t = now();
    await tx
      .update(vmPlacements)
      .set({ endedAt: t })
      .where(and(eq(vmPlacements.vmId, id), isNull(vmPlacements.endedAt)));
    await tx.delete(vms).where(eq(vms.id, id));
    await runVmDeletedHooks(tx, existing, t);
    await audit(tx, {
      tenantId: existing.tenantId,
      actor: ctx.actor,
      action: "vm.delete",
      target: id,
    });
  });
}
