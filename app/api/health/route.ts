// GET /api/health – liveness of the database and the workers (no auth); declared in server/http/routes.
import { apiRouter } from "@/server/http/routes";

export const dynamic = "force-dynamic";

const handle = (req: Request) => apiRouter.handle(req);

export {
  handle as DELETE,
  handle as GET,
  handle as HEAD,
  handle as OPTIONS,
  handle as PATCH,
  handle as POST,
  handle as PUT,
};
