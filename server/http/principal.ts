import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "@/db/client";
import { apiKeys, appSettings, hostTokens } from "@/db/schema";
import {
  bearerOf,
  OPERATOR_TOKEN_SETTING,
  hashToken,
  safeEqualHex,
  tokenKindOf,
} from "@/server/auth-tokens";
import { now } from "@/server/clock";
import { env } from "@/server/env";
import { ForbiddenError, UnauthorizedError } from "@/server/errors";

export type Principal =
  | { kind: "operator" }
  | { kind: "host"; hostId: string; tokenId: string }
  | { kind: "tenant"; tenantId: string; keyId: string; role: "member" };

export type AuthKind = Principal["kind"] | "none";

async function operatorTokenHash(db: Db): Promise<string | null> {
  const configured = env().OPERATOR_TOKEN;
  if (configured) return hashToken(configured);
  const [row] = await db
    .select()
    .from(appSettings)
    .where(eq(appSettings.key, OPERATOR_TOKEN_SETTING));
  return row ? String(row.value) : null;
}

// lastUsedAt is informative; writing it at most once a minute per credential keeps ingestion cheap.
const lastTouched = new Map<string, number>();
function shouldTouch(id: string): boolean {
  const t = Date.now();
  const prev = lastTouched.get(id) ?? 0;
  if (t - prev < 60_000) return false;
  lastTouched.set(id, t);
  if (lastTouched.size > 100_000) lastTouched.clear();
  return true;
}

export async function resolvePrincipal(
  db: Db,
  token: string,
): Promise<Principal | null> {
  const hash = hashToken(token);
  // a configured OPERATOR_TOKEN is any secret of 16+ characters, with or without the pwo_ prefix
  const configured = env().OPERATOR_TOKEN;
  if (configured && safeEqualHex(hashToken(configured), hash))
    return { kind: "operator" };
  const kind = tokenKindOf(token);
  if (kind === "operator") {
    const expected = await operatorTokenHash(db);
    return expected && safeEqualHex(expected, hash)
      ? { kind: "operator" }
      : null;
  }
  if (kind === "host") {
    const [row] = await db
      .select({ id: hostTokens.id, hostId: hostTokens.hostId })
      .from(hostTokens)
      .where(and(eq(hostTokens.tokenHash, hash), isNull(hostTokens.revokedAt)));
    if (!row) return null;
    if (shouldTouch(row.id))
      await db
        .update(hostTokens)
        .set({ lastUsedAt: now() })
        .where(eq(hostTokens.id, row.id));
    return { kind: "host", hostId: row.hostId, tokenId: row.id };
  }
  if (kind === "tenant") {
    const [row] = await db
      .select({ id: apiKeys.id, tenantId: apiKeys.tenantId })
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, hash), isNull(apiKeys.revokedAt)));
    if (!row) return null;
    if (shouldTouch(row.id))
      await db
        .update(apiKeys)
        .set({ lastUsedAt: now() })
        .where(eq(apiKeys.id, row.id));
    return {
      kind: "tenant",
      tenantId: row.tenantId,
      keyId: row.id,
      role: "member",
    };
  }
  return null;
}

export async function authenticate(
  db: Db,
  req: Request,
  allowed: AuthKind[],
): Promise<Principal | null> {
  if (allowed.includes("none")) return null;
  const token = bearerOf(req);
  if (!token)
    throw new UnauthorizedError(
      "Missing bearer token (Authorization: Bearer <token>)",
    );
  const p = await resolvePrincipal(db, token);
  if (!p) throw new UnauthorizedError("Unknown or revoked token");
  if (!allowed.includes(p.kind))
    throw new ForbiddenError(`A ${p.kind} credential cannot use this endpoint`);
  return p;
}
