import { and, asc, eq, isNull } from "drizzle-orm";
import type { Db } from "@/db/client";
import { dbKindOf } from "@/db/client";
import { newId } from "@/db/ids";
import { hostTokens } from "@/db/schema";
import { audit } from "@/server/audit";
import { hashToken, newSecretToken } from "@/server/auth-tokens";
import type { ServiceContext } from "@/server/context";
import { iso } from "@/server/core/time";
import { NotFoundError } from "@/server/errors";
import { requireHost } from "./hosts";

// Every ingestion request looks up its host token. On the embedded database this process is the
// only one that can write (one process per DATA_DIR), so an active token is kept in memory after
// its first use, and revoking one forgets them all before it answers: no request after the revoke
// is answered from the memory. A lookup that overlapped a revoke is not remembered (the
// generation moved). With PostgreSQL another process may revoke, so every request reads the row.
type ActiveHostToken = { id: string; hostId: string };
type Remembered = { generation: number; tokens: Map<string, ActiveHostToken> };
const remembered = new WeakMap<Db, Remembered>();
let generation = 0;
const MAX_REMEMBERED = 10_000;

export async function findActiveHostToken(
  db: Db,
  tokenHash: string,
): Promise<ActiveHostToken | null> {
  const embedded = dbKindOf(db) === "pglite";
  const memory = embedded ? remembered.get(db) : undefined;
  if (memory?.generation === generation) {
    const hit = memory.tokens.get(tokenHash);
    if (hit) return hit;
  }
  const seen = generation;
  const [row] = await db
    .select({ id: hostTokens.id, hostId: hostTokens.hostId })
    .from(hostTokens)
    .where(
      and(eq(hostTokens.tokenHash, tokenHash), isNull(hostTokens.revokedAt)),
    );
  if (!row) return null;
  if (embedded && seen === generation) {
    let m = remembered.get(db);
    if (!m || m.generation !== generation || m.tokens.size >= MAX_REMEMBERED)
      remembered.set(db, (m = { generation, tokens: new Map() }));
    m.tokens.set(tokenHash, row);
  }
  return row;
}

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
  // ctx.db may be a transaction: what every handle remembers is forgotten, not only its own
  generation += 1;
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
