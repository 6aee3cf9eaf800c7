import { env } from "@/server/env";
import { ApiError } from "@/server/errors";
import { log } from "@/server/log";
import { strictTransportSecurity } from "./security-headers";

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  const hsts = strictTransportSecurity(env().publicUrl);
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      ...(hsts ? { "strict-transport-security": hsts } : {}),
      ...headers,
    },
  });
}

export function errorResponse(e: unknown): Response {
  if (e instanceof ApiError) {
    const headers: Record<string, string> = {};
    if (e.retryAfterSeconds !== undefined)
      headers["retry-after"] = String(
        Math.max(1, Math.ceil(e.retryAfterSeconds)),
      );
    return json(
      e.status,
      {
        error: {
          code: e.code,
          message: e.message,
          ...(e.details?.length ? { details: e.details } : {}),
        },
      },
      headers,
    );
  }
  log.error("unhandled error", { err: e });
  return json(500, {
    error: { code: "internal", message: "Internal server error" },
  });
}
