import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

// Bearer secrets are 256-bit random values, so a plain SHA-256 at rest is enough (no password stretching).
// The operator token's hash when none is configured: made on first start, kept in app_settings.
export const OPERATOR_TOKEN_SETTING = "operator_token_hash";

export type TokenKind = "operator" | "host" | "tenant" | "feed";

const PREFIX: Record<TokenKind, string> = {
  operator: "pwo_",
  host: "pwh_",
  tenant: "pwk_",
  feed: "pwf_",
};

export function newSecretToken(kind: TokenKind): string {
  return PREFIX[kind] + randomBytes(32).toString("base64url");
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export function tokenKindOf(token: string): TokenKind | null {
  for (const [k, p] of Object.entries(PREFIX))
    if (token.startsWith(p)) return k as TokenKind;
  return null;
}

export function safeEqualHex(a: string, b: string): boolean {
  const ba = Buffer.from(a, "hex");
  const bb = Buffer.from(b, "hex");
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

export function bearerOf(req: Request): string | null {
  const h = req.headers.get("authorization");
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1] ?? null;
}
