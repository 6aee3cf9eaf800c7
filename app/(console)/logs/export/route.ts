// GET /logs/export?format=csv|ndjson&… – the logs explorer's download of its current view, for the
// signed-in member (the same rows and format as GET /api/v1/log-entries/export with an API key).
import { getDb } from "@/db";
import { getSessionFromHeaders, pickTenant } from "@/server/auth";
import { now } from "@/server/clock";
import { UnauthorizedError, ForbiddenError } from "@/server/errors";
import { parseOrThrow } from "@/server/core/validation";
import { logEntryExportResponse } from "@/server/http/log-export";
import { errorResponse } from "@/server/http/respond";
import { LogEntryExportQuery } from "@/server/incidents/log-entries";
import { listMembershipsOfEmail } from "@/server/tenants/members";

export const dynamic = "force-dynamic";

export async function GET(req: Request): Promise<Response> {
  try {
    const db = await getDb();
    const session = await getSessionFromHeaders(req.headers, db);
    if (!session) throw new UnauthorizedError("Sign in to export log entries");
    const tenant = pickTenant(
      await listMembershipsOfEmail(db, session.email),
      session.activeTenantId,
    );
    if (!tenant) throw new ForbiddenError("You are not a member of any tenant");
    const query = parseOrThrow(
      LogEntryExportQuery,
      Object.fromEntries(new URL(req.url).searchParams),
      "query",
    );
    return logEntryExportResponse(
      { db, tenantId: tenant.tenantId },
      query,
      now(),
    );
  } catch (e) {
    return errorResponse(e);
  }
}
