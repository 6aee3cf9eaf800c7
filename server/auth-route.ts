import "server-only";
import { getAuth, getSessionFromHeaders } from "@/server/auth";
import { UnauthorizedError } from "@/server/errors";
import { withBoundedBody } from "@/server/http/read-body";
import { errorResponse } from "@/server/http/respond";

// /api/auth/*: better-auth behind our own door. Its bodies are tiny (an email address), so one
// is read only up to 16 KiB, and only after the session is checked on every route that needs one
// (all but the public sign-in form).
export const AUTH_MAX_BODY = 16 * 1024;
const PUBLIC_POSTS = new Set(["/api/auth/sign-in/magic-link"]);

export async function handleAuthRequest(req: Request): Promise<Response> {
  try {
    let bounded = req;
    if (req.method !== "GET" && req.method !== "HEAD") {
      const path = new URL(req.url).pathname.replace(/\/+$/, "");
      if (!PUBLIC_POSTS.has(path) && !(await getSessionFromHeaders(req.headers))) throw new UnauthorizedError("Sign in first");
      bounded = await withBoundedBody(req, AUTH_MAX_BODY);
    }
    return (await getAuth()).handler(bounded);
  } catch (e) {
    return errorResponse(e);
  }
}
