import { afterEach, describe, expect, it, vi } from "vitest";
import { allRoutes } from "@/server/http/routes";
import { log } from "@/server/log";
import { api, fleet, operator } from "../helpers/api";
import { fillPath, routeKey } from "../helpers/security-world";
import type { SecurityWorld } from "../helpers/security-world";

// HTTP semantics every client and proxy relies on (RFC 9110, RFC 6750), on every path of the API.

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
// Any id will do: the method is refused before the path's resource is looked up.
const anyIds = new Proxy({} as SecurityWorld, { get: () => "some-id" });
const byPath = new Map<string, typeof allRoutes>();
for (const r of allRoutes)
  byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
const paths = [...byPath.entries()].map(([path, defs]) => ({
  path,
  defs,
  url: fillPath(defs[0]!, anyIds),
}));

function expectedAllow(defs: typeof allRoutes): string {
  const m = new Set<string>(defs.map((d) => d.method));
  if (m.has("GET")) m.add("HEAD");
  m.add("OPTIONS");
  return [...m].sort().join(", ");
}

afterEach(() => vi.restoreAllMocks());

describe("methods", () => {
  it.each(paths)(
    "$path: OPTIONS names the real methods; any other method is 405 with Allow in the error shape",
    async ({ defs, url }) => {
      const op = await operator();
      const allow = expectedAllow(defs);
      const opts = await api("OPTIONS", url, { token: op });
      expect(opts.status).toBe(204);
      expect(opts.headers.get("allow")).toBe(allow);
      for (const m of METHODS.filter(
        (m) => !defs.some((d) => d.method === m),
      )) {
        const r = await api(m, url, {
          token: op,
          ...(m === "GET" || m === "DELETE" ? {} : { body: {} }),
        });
        expect(r.status, `${m} ${url}`).toBe(405);
        expect(r.headers.get("allow"), `${m} ${url}`).toBe(allow);
        expect(r.body.error).toMatchObject({ code: "method_not_allowed" });
        expect(r.body.error.message).toContain(allow);
      }
    },
  );

  it("answers HEAD wherever GET is: the GET answer's status and headers, no body", async () => {
    const f = await fleet();
    const get = await api("GET", "/api/v1/vms", { token: f.apiKey });
    const head = await api("HEAD", "/api/v1/vms", { token: f.apiKey });
    expect(get.status).toBe(200);
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
    expect(head.headers.get("content-type")).toBe(
      get.headers.get("content-type"),
    );
    const unauth = await api("HEAD", "/api/v1/vms");
    expect(unauth.status).toBe(401);
    expect(unauth.body).toBeNull();
    expect(unauth.headers.get("www-authenticate")).toBe(
      'Bearer realm="poisonwatch"',
    );
    expect((await api("HEAD", "/api/v1/openapi.json")).status).toBe(200);
    expect(
      (
        await api("HEAD", `/api/v1/admin/hosts/${f.hostId}/tokens`, {
          token: f.op,
        })
      ).status,
    ).toBe(200);
    // HEAD is not offered where there is no GET
    const events = await api("HEAD", "/api/v1/events", { token: f.hostToken });
    expect(events.status).toBe(405);
    expect(events.headers.get("allow")).toBe("OPTIONS, POST");
  });

  it("an unknown path is 404 for every method, OPTIONS included", async () => {
    for (const m of [...METHODS, "OPTIONS"]) {
      const r = await api(m, "/api/v1/nothing-here");
      expect(r.status, m).toBe(404);
      if (m !== "OPTIONS") expect(r.body.error.code).toBe("not_found");
    }
  });

  it("refuses a method no route has (PROPFIND) with 405, and logs no error", async () => {
    const errors = vi.spyOn(log, "error");
    const r = await api("PROPFIND", "/api/v1/incidents");
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(r.body.error.code).toBe("method_not_allowed");
    expect(errors).not.toHaveBeenCalled();
  });

  it("the route table has no method twice on one path", () => {
    const keys = allRoutes.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("401", () => {
  it("carries WWW-Authenticate: Bearer, with error=invalid_token for a token it does not know (RFC 6750)", async () => {
    const none = await api("GET", "/api/v1/incidents");
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe(
      'Bearer realm="poisonwatch"',
    );
    expect(none.body.error.code).toBe("unauthorized");
    const bad = await api("POST", "/api/v1/events", {
      token: "pwh_not-a-token",
      body: {},
    });
    expect(bad.status).toBe(401);
    expect(bad.headers.get("www-authenticate")).toBe(
      'Bearer realm="poisonwatch", error="invalid_token"',
    );
    // a 403 is no challenge
    const f = await fleet();
    const forbidden = await api("GET", "/api/v1/incidents", { token: f.op });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("www-authenticate")).toBeNull();
  });
});

describe("GET /api/health", () => {
  it("answers the database and workers state without credentials: 503 while the workers are not running", async () => {
    const r = await api("GET", "/api/health");
    expect(r.status).toBe(503);
    expect(r.body).toEqual({
      status: "degraded",
      database: true,
      workers: false,
    });
    expect((await api("POST", "/api/health", { body: {} })).status).toBe(405);
  });
});
