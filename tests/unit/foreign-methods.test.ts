import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installForeignMethodGuard } from "@/server/http/foreign-methods";

// Next.js throws on TRACE (a logged TypeError, a plain-text 500) and answers other methods it
// does not serve with an empty 400; this server's handler does the same. The guard answers them
// before the handler runs.
let server: http.Server;
let base: string;
const seen: string[] = [];

beforeAll(async () => {
  installForeignMethodGuard((p) =>
    p === "/api/v1/incidents" ? "GET, HEAD, OPTIONS" : null,
  );
  server = http.createServer((req, res) => {
    seen.push(req.method!);
    if (req.method === "TRACE")
      throw new TypeError("'TRACE' HTTP method is unsupported.");
    res.writeHead(req.method === "GET" ? 200 : 400).end("next");
  });
  server.on("error", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function send(method: string, path: string, body?: string) {
  return new Promise<{
    status: number;
    headers: http.IncomingHttpHeaders;
    text: string;
  }>((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () =>
        resolve({ status: res.statusCode!, headers: res.headers, text }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("methods Next.js does not serve", () => {
  it("TRACE on an API path is 405 with the path's Allow, in the error shape; the app never sees it", async () => {
    const r = await send("TRACE", "/api/v1/incidents?x=1");
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET, HEAD, OPTIONS");
    expect(r.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(r.text)).toEqual({
      error: {
        code: "method_not_allowed",
        message:
          "TRACE is not supported on /api/v1/incidents; use GET, HEAD, OPTIONS",
      },
    });
    expect(seen).not.toContain("TRACE");
  });

  it("PROPFIND and PURGE (with a body) too; an API path that does not exist is 404", async () => {
    expect(
      (await send("PROPFIND", "/api/v1/incidents", "<propfind/>")).status,
    ).toBe(405);
    expect((await send("PURGE", "/api/v1/incidents")).status).toBe(405);
    const nf = await send("TRACE", "/api/v1/nothing");
    expect(nf.status).toBe(404);
    expect(JSON.parse(nf.text).error.code).toBe("not_found");
  });

  it("pages and the other APIs answer 405 with what Next serves there", async () => {
    const r = await send("TRACE", "/incidents");
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET, HEAD, OPTIONS, POST");
  });

  it("the methods Next serves pass through", async () => {
    expect((await send("GET", "/api/v1/incidents")).text).toBe("next");
    expect(seen).toContain("GET");
  });
});
