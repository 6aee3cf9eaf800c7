import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import superjson from "superjson";
import { getDb } from "@/db";
import type { Db } from "@/db/client";
import type { Role } from "@/db/constants";
import type { SessionUser } from "@/server/auth";
import {
  getSessionFromHeaders,
  isOperatorEmail,
  pickTenant,
} from "@/server/auth";
import type { ErrorCode, ErrorDetail } from "@/server/errors";
import { ApiError, ValidationError } from "@/server/errors";
import { jsonLimitProblem } from "@/server/core/json-limits";
import { now as clockNow } from "@/server/clock";
import { log } from "@/server/log";
import type { TenantMembership } from "@/server/tenants/members";
import { listMembershipsOfEmail, roleAtLeast } from "@/server/tenants/members";

// memberships: already loaded for this request (server components pass the viewer's), else queried
export type TRPCContext = {
  db: Db;
  session: SessionUser | null;
  memberships?: TenantMembership[];
};

export async function createTRPCContext(opts: {
  headers: Headers;
}): Promise<TRPCContext> {
  const db = await getDb();
  return { db, session: await getSessionFromHeaders(opts.headers, db) };
}

// minRole: the lowest tenant role that may call the procedure (queries default to viewer;
// a mutation without one is refused, so a forgotten declaration fails closed).
export type ProcedureMeta = { minRole?: Role };

const TRPC_CODE: Record<ErrorCode, TRPC_ERROR_CODE_KEY> = {
  invalid_request: "BAD_REQUEST",
  unauthorized: "UNAUTHORIZED",
  forbidden: "FORBIDDEN",
  not_found: "NOT_FOUND",
  method_not_allowed: "METHOD_NOT_SUPPORTED",
  conflict: "CONFLICT",
  payload_too_large: "PAYLOAD_TOO_LARGE",
  unsupported_media_type: "UNSUPPORTED_MEDIA_TYPE",
  rate_limited: "TOO_MANY_REQUESTS",
};

// The one mapping point from server/errors.ts to tRPC; unknown errors never leak their message.
export function toTRPCError(e: unknown): TRPCError {
  if (e instanceof ApiError)
    return new TRPCError({
      code: TRPC_CODE[e.code],
      message: e.message,
      cause: e,
    });
  if (e instanceof TRPCError) {
    if (e.cause instanceof ApiError) return toTRPCError(e.cause);
    if (e.code !== "INTERNAL_SERVER_ERROR") return e;
    if (e.message === "Internal server error") return e;
    return new TRPCError({
      code: "INTERNAL_SERVER_ERROR",
      message: "Internal server error",
      cause: e.cause ?? e,
    });
  }
  return new TRPCError({
    code: "INTERNAL_SERVER_ERROR",
    message: "Internal server error",
    cause: e,
  });
}

type Issue = {
  path?: readonly PropertyKey[] | readonly { key: PropertyKey }[];
  message: string;
};

function issueDetails(cause: unknown): ErrorDetail[] | null {
  if (cause instanceof ApiError) return cause.details ?? null;
  const issues = (cause as { issues?: Issue[] } | undefined)?.issues;
  if (!Array.isArray(issues)) return null;
  return issues.map((i) => ({
    path: (i.path ?? [])
      .map((p) =>
        String(typeof p === "object" && p !== null && "key" in p ? p.key : p),
      )
      .join("."),
    message: i.message,
  }));
}

const t = initTRPC
  .context<TRPCContext>()
  .meta<ProcedureMeta>()
  .create({
    transformer: superjson,
    errorFormatter({ shape, error }) {
      // field errors of zod input validation and of ValidationError, for forms
      return {
        ...shape,
        data: {
          ...shape.data,
          stack: undefined,
          details: issueDetails(error.cause),
        },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

const errorMapping = t.middleware(async ({ next, path }) => {
  const res = await next();
  if (res.ok) return res;
  const mapped = toTRPCError(
    res.error.cause instanceof ApiError ? res.error.cause : res.error,
  );
  if (mapped.code === "INTERNAL_SERVER_ERROR")
    log.error("trpc procedure failed", { path, err: mapped.cause ?? mapped });
  throw mapped;
});

// The same text rules as the REST boundary: NUL, lone surrogates and deep nesting are bad input,
// never a database error.
const inputLimits = t.middleware(async ({ getRawInput, next }) => {
  const problem = jsonLimitProblem(await getRawInput());
  if (problem)
    throw new ValidationError(`Input not accepted: ${problem.message}`, [
      problem,
    ]);
  return next();
});

// The input is read only after the caller is known to be allowed (each guard below ends with
// inputLimits): nobody makes the server read what it will refuse anyway.
// Every procedure's ctx is a ServiceContext (server/context.ts): db, now, then actor and tenantId
// from the guards below; routers hand it to the service as it is.
const base = t.procedure
  .use(errorMapping)
  .use(({ next }) => next({ ctx: { now: clockNow() } }));

export const publicProcedure = base.use(inputLimits);

const signedIn = base.use(({ ctx, next }) => {
  // UNAUTHORIZED = no session; FORBIDDEN = a session without the permission
  if (!ctx.session)
    throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
  return next({
    ctx: { session: ctx.session, actor: `user:${ctx.session.email}` },
  });
});

export const authedProcedure = signedIn.use(inputLimits);

// Tenant data is reachable only here: ctx.tenantId comes from the session's membership.
export const tenantProcedure = signedIn
  .use(async ({ ctx, meta, type, next }) => {
    const minRole = meta?.minRole ?? (type === "query" ? "viewer" : undefined);
    if (!minRole)
      throw new TRPCError({
        code: "FORBIDDEN",
        message: "This action declares no role",
      });
    const memberships =
      ctx.memberships ??
      (await listMembershipsOfEmail(ctx.db, ctx.session.email));
    const m = pickTenant(memberships, ctx.session.activeTenantId);
    if (!m)
      throw new TRPCError({
        code: "FORBIDDEN",
        message: "You are not a member of any tenant",
      });
    if (!roleAtLeast(m.role, minRole)) {
      throw new TRPCError({
        code: "FORBIDDEN",
        message: `This needs the ${minRole} role; you are a ${m.role}`,
      });
    }
    return next({ ctx: { tenantId: m.tenantId, role: m.role, tenant: m } });
  })
  .use(inputLimits);

export const memberProcedure = tenantProcedure.meta({ minRole: "member" });
export const ownerProcedure = tenantProcedure.meta({ minRole: "owner" });

// The operator console (OPERATOR_EMAILS, or the demo operator of a seeded demo database).
export const operatorProcedure = signedIn
  .use(async ({ ctx, next }) => {
    if (!(await isOperatorEmail(ctx.db, ctx.session.email))) {
      throw new TRPCError({
        code: "FORBIDDEN",
        message: "Only operators can do this",
      });
    }
    return next({ ctx: { actor: `operator:${ctx.session.email}` } });
  })
  .use(inputLimits);
