import type { Db } from "@/db/client";
import { now as clockNow } from "@/server/clock";
import { ForbiddenError } from "@/server/errors";

// Who did it, for the audit log: "operator", "user:<email>", "api_key:<id>", "system".
export type Actor = string;

// What every service receives first: `verbNoun(ctx, input)`. The adapters (defineRoute handlers,
// tRPC procedures, jobs) build it once per request; `db` may be a transaction; `now` is the
// request's instant on the test clock (server/clock.ts).
export type ServiceContext = {
  db: Db;
  tenantId?: string;
  actor: Actor;
  now: Date;
};

// A service that reads or writes one tenant's data.
export type TenantContext = ServiceContext & { tenantId: string };

export function serviceContext(db: Db, actor: Actor): ServiceContext;
export function serviceContext(
  db: Db,
  actor: Actor,
  tenantId: string,
): TenantContext;
export function serviceContext(
  db: Db,
  actor: Actor,
  tenantId?: string,
): ServiceContext {
  return tenantId === undefined
    ? { db, actor, now: clockNow() }
    : { db, actor, tenantId, now: clockNow() };
}

// For adapters whose credential may be of another kind: no tenant, no tenant data.
export function tenantContext(ctx: ServiceContext): TenantContext {
  const { tenantId } = ctx;
  if (tenantId === undefined)
    throw new ForbiddenError("This needs a tenant's credential");
  return { ...ctx, tenantId };
}
