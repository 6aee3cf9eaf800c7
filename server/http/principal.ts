import { and, eq, isNull } from "drizzle-orm";
import type { Db } from "@/db/client";
import { apiKeys, appSettings, feedTokens, hostTokens } from "@/db/schema";
import {
  bearerOf,
  OPERATOR_TOKEN_SETTING,
  hashToken,
  safeEqualHex,
  tokenKindOf,
} from "@/server/auth-tokens";
import { now } from "@/server/clock";
import { findActiveHostToken } from "@/server/inventory/host-tokens";
import { env } from "@/server/env";
import { ForbiddenError, UnauthorizedError } from "@/server/errors";

export type Principal =
  | { kind: "operator" }
  | { kind: "host"; hostId: string; tokenId: string }
  | { kind: "tenant"; tenantId: string; keyId: string; role: "member" }
  // read-only: the feeds (server/feeds), nothing else
  | { kind: "feed"; tenantId: string; feedTokenId: string };

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
    const row = await findActiveHostToken(db, hash);
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
  if (kind === "feed") {
    const [row] = await db
      .select({ id: feedTokens.id, tenantId: feedTokens.tenantId })
      .from(feedTokens)
      .where(and(eq(feedTokens.tokenHash, hash), isNull(feedTokens.revokedAt)));
    if (!row) return null;
    if (shouldTouch(row.id))
      await db
        .update(feedTokens)
        .set({ lastUsedAt: now() })
        .where(eq(feedTokens.id, row.id));
    return { kind: "feed", tenantId: row.tenantId, feedTokenId: row.id };
  }
  return null;
}

// Feed readers and calendars can only put a secret in the URL: routes that take a feed token
// also read it from ?token= (a bearer header wins when both are sent).
function credentialOf(req: Request, allowed: AuthKind[]): string | null {
  const bearer = bearerOf(req);
  if (bearer || !allowed.includes("feed")) return bearer;
  return new URL(req.url).searchParams.get("token") || null;
}

export async function authenticate(
  db: Db,
  req: Request,
  allowed: AuthKind[],
): Promise<Principal | null> {
  if (allowed.includes("none")) return null;
  const token = credentialOf(req, allowed);
  if (!token)
    throw new UnauthorizedError(
      allowed.includes("feed")
        ? "Missing feed token (?token=pwf_…)"
        : "Missing bearer token (Authorization: Bearer <token>)",
    );
  const p = await resolvePrincipal(db, token);
  if (!p) throw new UnauthorizedError("Unknown or revoked token");
  if (!allowed.includes(p.kind))
    throw new ForbiddenError(`A ${p.kind} credential cannot use this endpoint`);
  return p;
}
