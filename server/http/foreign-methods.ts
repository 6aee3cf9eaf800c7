import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";

// Next.js serves only these; any other method that Node's HTTP parser accepts (TRACE, PROPFIND,
// PURGE…) fails inside Next: TRACE with a logged TypeError and a plain-text 500 (the fetch
// Request it builds refuses the method), the others with an empty 400. Such a request is
// answered here, before Next sees it: 405 with Allow in the API's error shape (404 for a path
// the API does not have). A token Node's parser does not know never reaches JavaScript (400).
export const NEXT_METHODS = new Set([
  "GET",
  "HEAD",
  "OPTIONS",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
]);

// Pages, tRPC and better-auth: what Next answers on a path outside the REST router.
const OTHER_PATHS_ALLOW = "GET, HEAD, OPTIONS, POST";

export type AllowAt = (pathname: string) => string | null;

export function answerForeignMethod(
  req: IncomingMessage,
  res: ServerResponse,
  allowAt: AllowAt,
): void {
  let pathname = "/";
  try {
    pathname = new URL(req.url ?? "/", "http://localhost").pathname;
  } catch {
    /* an unparseable target is still no method Next serves */
  }
  const api = pathname === "/api/health" || pathname.startsWith("/api/v1/");
  const allow = api ? allowAt(pathname) : OTHER_PATHS_ALLOW;
  const method = (req.method ?? "").toUpperCase();
  const body = allow
    ? {
        error: {
          code: "method_not_allowed",
          message: `${method} is not supported on ${pathname}; use ${allow}`,
        },
      }
    : { error: { code: "not_found", message: `No endpoint at ${pathname}` } };
  const text = JSON.stringify(body);
  res.writeHead(allow ? 405 : 404, {
    ...(allow ? { allow } : {}),
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
  });
  // a request body, if any, is not read: close the connection after the answer
  res.shouldKeepAlive = false;
  res.end(text);
  req.resume();
}

const g = globalThis as unknown as { __pwForeignMethodGuard?: boolean };

// Every HTTP server of the process (`next start` makes one) answers foreign methods itself.
export function installForeignMethodGuard(allowAt: AllowAt): void {
  if (g.__pwForeignMethodGuard) return;
  g.__pwForeignMethodGuard = true;
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function (
    this: http.Server,
    event: string | symbol,
    ...args: unknown[]
  ) {
    if (event === "request") {
      const [req, res] = args as [IncomingMessage, ServerResponse];
      if (!NEXT_METHODS.has((req.method ?? "").toUpperCase())) {
        answerForeignMethod(req, res, allowAt);
        return true;
      }
    }
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
  } as typeof emit;
}
