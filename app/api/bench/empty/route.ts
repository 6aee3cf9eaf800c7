// POST /api/bench/empty – an empty route handler, the benchmarks' baseline (404 unless POISONWATCH_BENCH=1)
import { env } from "@/server/env";

export const dynamic = "force-dynamic";

export async function POST(req: Request) {
  if (env().POISONWATCH_BENCH !== "1")
    return new Response(null, { status: 404 });
  await req.text();
  return new Response("{}", {
    status: 200,
    headers: { "content-type": "application/json" },
  });
}
