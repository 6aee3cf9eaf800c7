// /api/trpc/* – the console's tRPC endpoint (session cookie; tenant from the session's membership)
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { createTRPCContext } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/router";

export const dynamic = "force-dynamic";

const handler = (req: Request) =>
  fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: () => createTRPCContext({ headers: req.headers }),
    responseMeta: () => ({ headers: new Headers({ "cache-control": "no-store" }) }),
  });

export { handler as GET, handler as POST };
