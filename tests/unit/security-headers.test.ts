import { NextRequest } from "next/server";
import { describe, expect, it } from "vitest";
import nextConfig from "../../next.config";
import { config as proxyConfig, proxy } from "../../proxy";

// The security headers come from next.config.ts headers() (every answer) and, for pages, the
// Content-Security-Policy with a per-request nonce from proxy.ts.

async function headersFor(path: string): Promise<Map<string, string>> {
  expect(typeof nextConfig.headers).toBe("function");
  const rules = await nextConfig.headers!();
  const out = new Map<string, string>();
  for (const rule of rules) {
    // Next's path-to-regexp sources: "/:path*" matches every path
    const re = new RegExp(
      "^" +
        rule.source
          .replace(/\/:path\*/g, "(?:/.*)?")
          .replace(/:(\w+)/g, "[^/]+") +
        "$",
    );
    if (!re.test(path) || rule.has || rule.missing) continue;
    for (const h of rule.headers) out.set(h.key.toLowerCase(), h.value);
  }
  return out;
}

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!.toLowerCase(), values]),
  );
}

function expectStrictPolicy(csp: string | undefined) {
  expect(csp, "Content-Security-Policy").toBeTruthy();
  const d = directives(csp!);
  expect(d.get("frame-ancestors")).toEqual(["'none'"]);
  expect(d.get("default-src")).toEqual(["'self'"]);
  // no inline script without the nonce, no foreign script source, no eval; plugins and <base> hijacking closed
  const scripts = d.get("script-src") ?? d.get("default-src")!;
  expect(
    scripts.filter(
      (s) =>
        !["'self'", "'strict-dynamic'"].includes(s) && !s.startsWith("'nonce-"),
    ),
  ).toEqual([]);
  expect(d.get("object-src")).toEqual(["'none'"]);
  expect(d.get("base-uri")).toEqual(["'self'"]);
  expect(d.get("form-action")).toEqual(["'self'"]);
  expect(d.get("connect-src") ?? d.get("default-src")).toEqual(["'self'"]);
  return d;
}

// The proxy's matcher, as Next compiles it: a path it does not match gets no page policy.
function proxyRuns(path: string): boolean {
  const m = proxyConfig.matcher[0]!;
  return new RegExp(`^${m.source}$`).test(path);
}

describe("security headers", () => {
  it.each([
    "/",
    "/login",
    "/overview",
    "/incidents/inc_01",
    "/settings/api-keys",
    "/operator",
    "/api/v1/vms",
    "/api/trpc/incident.list",
    "/api/auth/session",
  ])("%s: nosniff, no framing, a referrer policy", async (path) => {
    const h = await headersFor(path);
    expect(h.get("x-content-type-options")).toBe("nosniff");
    expect(h.get("x-frame-options")).toBe("DENY");
    expect(h.get("referrer-policy")).toMatch(
      /^(no-referrer|strict-origin|strict-origin-when-cross-origin|same-origin)$/,
    );
  });

  it.each([
    "/api/v1/vms",
    "/api/trpc/incident.list",
    "/api/auth/session",
    "/api/health",
    "/_next/static/chunks/a.js",
  ])("%s: a CSP without inline scripts, from next.config.ts", async (path) => {
    expect(proxyRuns(path)).toBe(false);
    const d = expectStrictPolicy(
      (await headersFor(path)).get("content-security-policy"),
    );
    expect(d.get("script-src")).toEqual(["'self'"]);
  });

  it.each([
    "/",
    "/login",
    "/overview",
    "/incidents/inc_01",
    "/settings/api-keys",
    "/operator",
    "/no-such-page",
  ])(
    "%s: a CSP whose scripts need this request's nonce, on the answer and on the request Next renders",
    (path) => {
      expect(proxyRuns(path)).toBe(true);
      const res = proxy(new NextRequest(`http://localhost${path}`));
      const csp = res.headers.get("content-security-policy") ?? undefined;
      const d = expectStrictPolicy(csp);
      const nonces = d
        .get("script-src")!
        .filter((s) => s.startsWith("'nonce-"));
      expect(nonces).toHaveLength(1);
      expect(nonces[0]).toMatch(/^'nonce-[A-Za-z0-9+/]{22}=='$/);
      expect(d.get("script-src")).toContain("'strict-dynamic'");
      expect(d.get("script-src")).not.toContain("'unsafe-inline'");
      expect(d.get("script-src")).not.toContain("'unsafe-eval'");
      // Next reads the policy from the request it renders: the override header carries it
      expect(
        res.headers.get("x-middleware-request-content-security-policy"),
      ).toBe(csp);
    },
  );

  it("gives every request a nonce of its own", () => {
    const nonceOf = () =>
      /'nonce-([^']+)'/.exec(
        proxy(new NextRequest("http://localhost/overview")).headers.get(
          "content-security-policy",
        )!,
      )![1];
    const seen = new Set(Array.from({ length: 50 }, nonceOf));
    expect(seen.size).toBe(50);
  });

  it("does not announce the framework", () => {
    expect(nextConfig.poweredByHeader).toBe(false);
  });
});
