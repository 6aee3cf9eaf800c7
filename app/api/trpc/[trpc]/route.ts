// /api/trpc/* – the console's tRPC endpoint (session cookie; tenant from the session's membership)
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { getDb } from "@/db";
import { getSessionFromHeaders } from "@/server/auth";
import { MAX_JSON_BODY, withBoundedBody } from "@/server/http/read-body";
import { env } from "@/server/env";
import { errorResponse } from "@/server/http/respond";
import { strictTransportSecurity } from "@/server/http/security-headers";
import { TRPC_MAX_BATCH } from "@/server/trpc/limits";
import { appRouter } from "@/server/trpc/router";

export const dynamic = "force-dynamic";

// The session first, then the body: without one every procedure answers UNAUTHORIZED, so
// nothing of the body is read; with one it is read up to 1 MiB (413 past that).
const handler = async (req: Request) => {
  const db = await getDb();
  const session = await getSessionFromHeaders(req.headers, db);
  let bounded: Request;
  try {
    bounded = await withBoundedBody(req, session ? MAX_JSON_BODY : 0);
  } catch (e) {
    return errorResponse(e);
  }
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: bounded,
    router: appRouter,
    maxBatchSize: TRPC_MAX_BATCH,
    createContext: () => ({ db, session }),
    responseMeta: () => {
      const headers = new Headers({ "cache-control": "no-store" });
      const hsts = strictTransportSecurity(env().publicUrl);
      if (hsts) headers.set("strict-transport-security", hsts);
      return { headers };
    },
  });
};

export { handler as GET, handler as POST };
