// GET /api/health – liveness of the database and the workers (no auth)
import { getDb } from "@/db";
import { checkHealth } from "@/server/health";

export const dynamic = "force-dynamic";

export async function GET() {
  try {
    const h = await checkHealth(await getDb());
    return Response.json(h, { status: h.status === "ok" ? 200 : 503, headers: { "cache-control": "no-store" } });
  } catch {
    return Response.json({ status: "degraded", database: false, workers: false }, { status: 503 });
  }
}
