import { and, asc, eq, isNull } from "drizzle-orm";
import { newId } from "@/db/ids";
import { hostTokens } from "@/db/schema";
import { audit } from "@/server/audit";
import { hashToken, newSecretToken } from "@/server/auth-tokens";
import type { ServiceContext } from "@/server/context";
import { iso } from "@/server/core/time";
import { NotFoundError } from "@/server/errors";
import { requireHost } from "./hosts";

export async function createHostToken(
  ctx: ServiceContext,
  input: { hostId: string },
) {
  const { hostId } = input;
  await requireHost(ctx.db, hostId);
  const token = newSecretToken("host");
  const id = newId("htk");
  await ctx.db
    .insert(hostTokens)
    .values({ id, hostId, tokenHash: hashToken(token), createdAt: ctx.now });
  await audit(ctx.db, {
    tenantId: null,
    actor: ctx.actor,
    action: "host_token.create",
    target: id,
    details: { hostId },
  });
  return { id, token };
}

export async function listHostTokens(
  ctx: ServiceContext,
  input: { hostId: string },
) {
  await requireHost(ctx.db, input.hostId);
  const rows = await ctx.db
    .select()
    .from(hostTokens)
    .where(
      and(eq(hostTokens.hostId, input.hostId), isNull(hostTokens.revokedAt)),
    )
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
  input: { hostId: string; tokenId: string },
) {
  const { hostId, tokenId } = input;
  const res = await ctx.db
    .update(hostTokens)
    .set({ revokedAt: ctx.now })
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
