import "server-only";
import { and, asc, eq, gt, isNull, sql } from "drizzle-orm";
import { getDb } from "@/db";
import type { Db } from "@/db/client";
import { emails } from "@/db/schema";
import { getAuth, getSessionFromHeaders } from "@/server/auth";
import { now } from "@/server/clock";
import { env } from "@/server/env";
import type { ErrorCode } from "@/server/errors";
import {
  ApiError,
  RateLimitedError,
  STATUS_OF,
  UnauthorizedError,
  ValidationError,
} from "@/server/errors";
import { clientAddress } from "@/server/http/client-address";
import { RateLimiter, WindowLimiter } from "@/server/core/rate-limit";
import { jsonLimitProblem } from "@/server/core/json-limits";
import { withBoundedBody } from "@/server/http/read-body";
import { mediaTypeOf } from "@/server/http/router";
import { errorResponse } from "@/server/http/respond";
import { withStrictTransportSecurity } from "@/server/http/security-headers";

// /api/auth/*: better-auth behind our own door. Its bodies are tiny (an email address), so one
// is read only up to 16 KiB, and only after the session is checked on every route that needs one
// (all but the public sign-in form). Sign-in is limited here, not by better-auth (whose limiter
// keys on a header any client can write, or on one bucket for everyone without it).
export const AUTH_MAX_BODY = 16 * 1024;
const SIGN_IN = "/api/auth/sign-in/magic-link";
const VERIFY = "/api/auth/magic-link/verify";

// spec "Bootstrap": at most 5 sign-in mails to one address per hour, however the requests are
// addressed; one address's flood never blocks another's sign-in.
export const SIGN_IN_MAILS_PER_HOUR = 5;
const clock = () => now().getTime();
export const signInLimits = {
  // requests per recipient address, member or not (a refusal reveals no membership)
  perRecipient: new WindowLimiter(
    { max: SIGN_IN_MAILS_PER_HOUR, windowSeconds: 3600 },
    clock,
  ),
  // requests and link openings per client, where a trusted proxy names the client (TRUSTED_PROXY_HOPS)
  perClient: new RateLimiter(
    { capacity: 20, refillPerSecond: 20 / 600 },
    clock,
  ),
  verifyPerClient: new RateLimiter(
    { capacity: 30, refillPerSecond: 30 / 60 },
    clock,
  ),
};

// The mails themselves, counted in the database: the cap holds across processes and restarts.
async function assertMailCap(db: Db, to: string): Promise<void> {
  const from = new Date(clock() - 3600_000);
  const sent = await db
    .select({ at: emails.createdAt })
    .from(emails)
    .where(
      and(
        isNull(emails.tenantId),
        eq(emails.kind, "sign_in_link"),
        gt(emails.createdAt, from),
        sql`${emails.to} @> ${JSON.stringify([to])}::jsonb`,
      ),
    )
    .orderBy(asc(emails.createdAt))
    .limit(SIGN_IN_MAILS_PER_HOUR);
  if (sent.length >= SIGN_IN_MAILS_PER_HOUR) {
    throw new RateLimitedError(
      "Too many sign-in links for this address; retry later",
      (sent[0]!.at.getTime() - from.getTime()) / 1000,
    );
  }
}

// The sign-in form's body with its address in one spelling (trimmed, lower case), or null when
// it names none (better-auth answers that itself: 415 for another media type, 400 for no address).
// Text no database can hold (NUL, a lone surrogate) is a 400 here, before any query.
function normalisedSignIn(
  req: Request,
  body: string,
): { to: string; body: string } | null {
  if (mediaTypeOf(req) !== "application/json") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const problem = jsonLimitProblem(parsed);
  if (problem)
    throw new ValidationError(`Body not accepted: ${problem.message}`, [
      problem,
    ]);
  if (
    !parsed ||
    typeof parsed !== "object" ||
    typeof (parsed as { email?: unknown }).email !== "string"
  )
    return null;
  const to = (parsed as { email: string }).email.trim().toLowerCase();
  return { to, body: JSON.stringify({ ...parsed, email: to }) };
}

// better-auth's own refusals ({ code, message }) in the house error shape, so every entry point
// answers bad input alike.
const CODE_OF_STATUS = new Map<number, ErrorCode>(
  Object.entries(STATUS_OF).map(([code, status]) => [
    status,
    code as ErrorCode,
  ]),
);
async function houseShaped(res: Response): Promise<Response> {
  const code = CODE_OF_STATUS.get(res.status);
  if (!code || !(res.headers.get("content-type") ?? "").includes("json"))
    return res;
  const body = (await res
    .clone()
    .json()
    .catch(() => null)) as { message?: unknown } | null;
  const message =
    typeof body?.message === "string" && body.message
      ? body.message
      : `Refused (${res.status})`;
  return errorResponse(new ApiError(code, message));
}

export async function handleAuthRequest(req: Request): Promise<Response> {
  try {
    const path = new URL(req.url).pathname.replace(/\/+$/, "");
    const client = clientAddress(req.headers);
    if (req.method === "GET" || req.method === "HEAD") {
      if (path === VERIFY && client)
        signInLimits.verifyPerClient.take(
          client,
          1,
          "sign-in link attempts from your address",
        );
      return withStrictTransportSecurity(
        await houseShaped(await (await getAuth()).handler(req)),
        env().publicUrl,
      );
    }
    if (path !== SIGN_IN && !(await getSessionFromHeaders(req.headers)))
      throw new UnauthorizedError("Sign in first");
    let bounded = await withBoundedBody(req, AUTH_MAX_BODY);
    if (path === SIGN_IN) {
      if (client)
        signInLimits.perClient.take(
          client,
          1,
          "sign-in requests from your address",
        );
      const signIn = normalisedSignIn(bounded, await bounded.clone().text());
      if (signIn) {
        await assertMailCap(await getDb(), signIn.to);
        signInLimits.perRecipient.take(
          signIn.to,
          "sign-in links for this address",
        );
        bounded = new Request(bounded, { body: signIn.body });
      }
    }
    return withStrictTransportSecurity(
      await houseShaped(await (await getAuth()).handler(bounded)),
      env().publicUrl,
    );
  } catch (e) {
    return errorResponse(e);
  }
}
