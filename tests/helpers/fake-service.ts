// A stand-in for POST /api/v1/events that records what arrives (gunzipped) and answers as told:
// by default each event accepted once and a duplicate after.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export type Received = {
  headers: http.IncomingHttpHeaders;
  events: { id: string; [k: string]: unknown }[];
  rawBytes: number;
};
type Plain =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | "default"
  | "hang";
type Answer = Plain | ((events: Received["events"]) => Plain);

export async function fakeService() {
  const requests: Received[] = [];
  const stored = new Map<string, unknown>();
  const script: Answer[] = [];
  let fallback: Answer = "default";
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body =
        req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
      const events = JSON.parse(body.toString("utf8")) as Received["events"];
      requests.push({ headers: req.headers, events, rawBytes: raw.length });
      const next = script.shift() ?? fallback;
      const a = typeof next === "function" ? next(events) : next;
      if (a === "hang") return;
      if (a === "default") {
        const results = events.map((e) => {
          const dup = stored.has(e.id);
          stored.set(e.id, e);
          return { id: e.id, status: dup ? "duplicate" : "accepted" };
        });
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ results }));
        return;
      }
      res
        .writeHead(a.status, {
          "content-type": "application/json",
          ...(a.headers ?? {}),
        })
        .end(
          JSON.stringify(
            a.body ?? { error: { code: "x", message: "scripted" } },
          ),
        );
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stored,
    // the next answers, in order; then `fallback`
    answer: (...a: Answer[]) => script.push(...a),
    setFallback: (a: Answer) => (fallback = a),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
