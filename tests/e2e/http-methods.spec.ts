import { expect, test } from "@playwright/test";
import { env } from "./helpers";

// The methods Next.js itself cannot serve, against the real server (`next start`): TRACE used to
// be a plain-text 500 with a logged TypeError on every path, PROPFIND an empty 400.
test.describe("HTTP methods on the real server", () => {
  test("TRACE and PROPFIND are 405 with Allow in the error shape, on API paths and pages", async ({
    request,
  }) => {
    for (const [method, path, allow] of [
      ["TRACE", "/api/v1/incidents", "GET, HEAD, OPTIONS"],
      ["TRACE", "/api/v1/events", "OPTIONS, POST"],
      ["PROPFIND", "/api/v1/vms", "GET, HEAD, OPTIONS"],
      ["TRACE", "/api/health", "GET, HEAD, OPTIONS"],
      ["TRACE", "/", "GET, HEAD, OPTIONS, POST"],
    ] as const) {
      const r = await request.fetch(path, { method });
      expect(r.status(), `${method} ${path}`).toBe(405);
      expect(r.headers()["allow"], `${method} ${path}`).toBe(allow);
      expect((await r.json()).error.code).toBe("method_not_allowed");
    }
    const nf = await request.fetch("/api/v1/nothing", { method: "TRACE" });
    expect(nf.status()).toBe(404);
  });

  test("OPTIONS names the path's methods, HEAD answers like GET, a wrong method is 405, a 401 challenges", async ({
    request,
  }) => {
    const opts = await request.fetch("/api/v1/webhooks", { method: "OPTIONS" });
    expect(opts.status()).toBe(204);
    expect(opts.headers()["allow"]).toBe("GET, HEAD, OPTIONS, POST");
    const head = await request.head("/api/v1/openapi.json");
    expect(head.status()).toBe(200);
    expect(head.headers()["content-type"]).toMatch(/^application\/json/);
    const wrong = await request.delete("/api/v1/incidents");
    expect(wrong.status()).toBe(405);
    expect(wrong.headers()["allow"]).toBe("GET, HEAD, OPTIONS");
    const unauth = await request.get("/api/v1/incidents");
    expect(unauth.status()).toBe(401);
    expect(unauth.headers()["www-authenticate"]).toBe(
      'Bearer realm="poisonwatch"',
    );
    const ok = await request.get("/api/v1/admin/policy", {
      headers: { authorization: `Bearer ${env("PW_E2E_OPERATOR_TOKEN")}` },
    });
    expect(ok.status()).toBe(200);
  });
});
