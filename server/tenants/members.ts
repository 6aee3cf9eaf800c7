import { and, asc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { newId } from "@/db/ids";
import type { Role } from "@/db/constants";
import { authUsers, memberships, tenants } from "@/db/schema";
import { audit } from "@/server/audit";
import type { ServiceContext, TenantContext } from "@/server/context";
import { ConflictError, NotFoundError } from "@/server/errors";
import { iso } from "@/server/core/time";
import { Email, requireTenant } from "@/server/inventory/tenants";

export const MemberInput = z.strictObject({
  email: Email,
  role: z.enum(["owner", "member", "viewer"]),
});
export type MemberInput = z.infer<typeof MemberInput>;

const RANK: Record<Role, number> = { viewer: 1, member: 2, owner: 3 };

export function roleAtLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}

export type TenantMembership = {
  tenantId: string;
  tenantName: string;
  role: Role;
};

// A signed-in person's tenants: the memberships that name their email.
export async function listMembershipsOfEmail(
  db: Db,
  email: string,
): Promise<TenantMembership[]> {
  const rows = await db
    .select({
      tenantId: memberships.tenantId,
      tenantName: tenants.name,
      role: memberships.role,
    })
    .from(memberships)
    .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
    .where(eq(memberships.email, email.toLowerCase()))
    .orderBy(asc(tenants.name), asc(tenants.id));
  return rows;
}

export async function listMembers(ctx: TenantContext) {
  const { db, tenantId } = ctx;
  const rows = await db
    .select()
    .from(memberships)
    .where(eq(memberships.tenantId, tenantId))
    .orderBy(asc(memberships.email));
  const emails = rows.map((r) => r.email);
  const users = emails.length
    ? await db
        .select({ email: authUsers.email })
        .from(authUsers)
        .where(inArray(authUsers.email, emails))
    : [];
  const signedUp = new Set(users.map((u) => u.email.toLowerCase()));
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    role: r.role,
    createdAt: iso(r.createdAt),
    // whether the person has signed in at least once (an invite that was used)
    hasSignedIn: signedUp.has(r.email),
  }));
}

// Someone added to a tenant hears about it (server/auth.ts registers the invite email).
type MemberAddedHook = (
  db: Db,
  m: { tenantId: string; email: string; role: string; invitedBy: string },
) => Promise<void>;
const mg = globalThis as unknown as { __pwMemberHook?: MemberAddedHook };
export function onMemberAdded(h: MemberAddedHook) {
  mg.__pwMemberHook = h;
}

// An upsert: adding a member again changes their role.
export async function addMember(
  ctx: ServiceContext,
  input: MemberInput & { tenantId: string },
) {
  const { tenantId } = input;
  return ctx.db.transaction(async (tx) => {
    await requireTenant(tx, tenantId);
    const email = input.email.toLowerCase();
    const t = ctx.now;
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

// Adding someone who is already a member is a conflict here: the console changes roles explicitly.
export async function inviteMember(ctx: TenantContext, input: MemberInput) {
  const { tenantId } = ctx;
  const email = input.email.toLowerCase();
  const [existing] = await ctx.db
    .select({ id: memberships.id })
    .from(memberships)
    .where(
      and(eq(memberships.tenantId, tenantId), eq(memberships.email, email)),
    );
  if (existing) throw new ConflictError(`${email} is already a member`);
  return addMember(ctx, { tenantId, email, role: input.role });
}

async function lockMembers(tx: Db, tenantId: string) {
  return tx
    .select()
    .from(memberships)
    .where(eq(memberships.tenantId, tenantId))
    .for("update");
}

// A tenant always keeps at least one owner, so nobody can lock everyone out of its settings.
function assertOwnerRemains(
  rows: (typeof memberships.$inferSelect)[],
  changedId: string,
  newRole: Role | null,
) {
  const owners = rows.filter(
    (r) => r.role === "owner" && !(r.id === changedId && newRole !== "owner"),
  );
  if (owners.length === 0)
    throw new ConflictError("A tenant needs at least one owner");
}

export async function changeMemberRole(
  ctx: TenantContext,
  input: { memberId: string; role: Role },
) {
  const { tenantId } = ctx;
  const { memberId, role } = input;
  return ctx.db.transaction(async (tx) => {
    const rows = await lockMembers(tx, tenantId);
    const target = rows.find((r) => r.id === memberId);
    if (!target) throw new NotFoundError(`No member ${memberId}`);
    assertOwnerRemains(rows, memberId, role);
    const [row] = await tx
      .update(memberships)
      .set({ role, updatedAt: ctx.now })
      .where(
        and(eq(memberships.id, memberId), eq(memberships.tenantId, tenantId)),
      )
      .returning();
    await audit(tx, {
      tenantId,
      actor: ctx.actor,
      action: "member.role_change",
      target: target.email,
      details: { from: target.role, to: role },
    });
    return { id: row!.id, email: row!.email, role: row!.role };
  });
}

export async function removeMember(
  ctx: TenantContext,
  input: { memberId: string },
) {
  const { tenantId } = ctx;
  const { memberId } = input;
  await ctx.db.transaction(async (tx) => {
    const rows = await lockMembers(tx, tenantId);
    const target = rows.find((r) => r.id === memberId);
    if (!target) throw new NotFoundError(`No member ${memberId}`);
    assertOwnerRemains(rows, memberId, null);
    await tx
      .delete(memberships)
      .where(
        and(eq(memberships.id, memberId), eq(memberships.tenantId, tenantId)),
      );
    await audit(tx, {
      tenantId,
      actor: ctx.actor,
      action: "member.remove",
      target: target.email,
      details: { role: target.role },
    });
  });
}
