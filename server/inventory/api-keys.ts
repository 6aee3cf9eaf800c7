import { and, asc, eq, isNull } from "drizzle-orm";
import { newId } from "@/db/ids";
import { apiKeys } from "@/db/schema";
import { audit } from "@/server/audit";
import { hashToken, newSecretToken } from "@/server/auth-tokens";
import type { ServiceContext } from "@/server/context";
import { iso } from "@/server/core/time";
import { NotFoundError } from "@/server/errors";
import { requireTenant } from "./tenants";

export async function createApiKey(
  ctx: ServiceContext,
  input: { tenantId: string; name?: string },
) {
  const { tenantId } = input;
  await requireTenant(ctx.db, tenantId);
  const key = newSecretToken("tenant");
  const id = newId("key");
  await ctx.db.insert(apiKeys).values({
    id,
    tenantId,
    keyHash: hashToken(key),
    name: input.name ?? null,
    createdAt: ctx.now,
  });
  await audit(ctx.db, {
    tenantId,
    actor: ctx.actor,
    action: "api_key.create",
    target: id,
  });
  return { id, key };
}

export async function listApiKeys(
  ctx: ServiceContext,
  input: { tenantId: string },
) {
  await requireTenant(ctx.db, input.tenantId);
  const rows = await ctx.db
    .select()
    .from(apiKeys)
    .where(and(eq(apiKeys.tenantId, input.tenantId), isNull(apiKeys.revokedAt)))
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
  input: { tenantId: string; keyId: string },
) {
  const { tenantId, keyId } = input;
  const res = await ctx.db
    .update(apiKeys)
    .set({ revokedAt: ctx.now })
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
