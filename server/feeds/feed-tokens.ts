import { and, asc, count, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { newId } from "@/db/ids";
import { feedTokens, tenants } from "@/db/schema";
import { audit } from "@/server/audit";
import { hashToken, newSecretToken } from "@/server/auth-tokens";
import type { TenantContext } from "@/server/context";
import { ConflictError, NotFoundError } from "@/server/errors";

// Feed tokens (pwf_…) let a feed reader or a calendar read a tenant's incidents and evacuations,
// nothing else. Members and owners (and API keys, which act as members) make and revoke them: a
// token reads less than a viewer sees, but it outlives a membership, so viewers cannot make one.

export const MAX_FEED_TOKENS = 50;

export const FeedTokenId = z
  .string()
  .min(1)
  .max(64)
  .describe("fdt_…, the token's id (never the token)");

export type FeedTokenView = {
  id: string;
  createdAt: string;
  lastUsedAt: string | null;
};
export type NewFeedToken = { id: string; token: string; createdAt: string };

async function requireTenant(ctx: TenantContext) {
  const [t] = await ctx.db
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(tenants.id, ctx.tenantId));
  if (!t) throw new NotFoundError(`No tenant ${ctx.tenantId}`);
}

// The token is answered here only; the table keeps its SHA-256 (server/auth-tokens.ts).
export async function createFeedToken(
  ctx: TenantContext,
): Promise<NewFeedToken> {
  await requireTenant(ctx);
  return ctx.db.transaction(async (tx) => {
    // one creation at a time per tenant, so the cap holds under concurrent requests
    await tx
      .select({ id: tenants.id })
      .from(tenants)
      .where(eq(tenants.id, ctx.tenantId))
      .for("update");
    const [active] = await tx
      .select({ n: count() })
      .from(feedTokens)
      .where(
        and(
          eq(feedTokens.tenantId, ctx.tenantId),
          isNull(feedTokens.revokedAt),
        ),
      );
    if ((active?.n ?? 0) >= MAX_FEED_TOKENS)
      throw new ConflictError(
        `The tenant has ${MAX_FEED_TOKENS} feed tokens already; revoke one first`,
      );
    const token = newSecretToken("feed");
    const id = newId("fdt");
    const createdAt = ctx.now;
    await tx.insert(feedTokens).values({
      id,
      tenantId: ctx.tenantId,
      tokenHash: hashToken(token),
      createdBy: ctx.actor,
      createdAt,
    });
    await audit(tx, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "feed_token.create",
      target: id,
    });
    return { id, token, createdAt: createdAt.toISOString() };
  });
}

// The tenant's tokens that still work, oldest first (at most MAX_FEED_TOKENS: one page).
export async function listFeedTokens(
  ctx: TenantContext,
): Promise<{ data: FeedTokenView[]; nextCursor: null }> {
  const rows = await ctx.db
    .select()
    .from(feedTokens)
    .where(
      and(eq(feedTokens.tenantId, ctx.tenantId), isNull(feedTokens.revokedAt)),
    )
    .orderBy(asc(feedTokens.createdAt), asc(feedTokens.id));
  return {
    data: rows.map((r) => ({
      id: r.id,
      createdAt: r.createdAt.toISOString(),
      lastUsedAt: r.lastUsedAt ? r.lastUsedAt.toISOString() : null,
    })),
    nextCursor: null,
  };
}

// Revoked at once: the next request with it is a 401.
export async function revokeFeedToken(
  ctx: TenantContext,
  input: { id: string },
): Promise<void> {
  const res = await ctx.db
    .update(feedTokens)
    .set({ revokedAt: ctx.now })
    .where(
      and(
        eq(feedTokens.id, input.id),
        eq(feedTokens.tenantId, ctx.tenantId),
        isNull(feedTokens.revokedAt),
      ),
    )
    .returning({ id: feedTokens.id });
  if (!res.length) throw new NotFoundError(`No feed token ${input.id}`);
  await audit(ctx.db, {
    tenantId: ctx.tenantId,
    actor: ctx.actor,
    action: "feed_token.revoke",
    target: input.id,
  });
}
