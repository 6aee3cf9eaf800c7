import { describe, expect, it } from "vitest";
import nextConfig from "../../next.config";

// The console's security headers come from next.config.ts headers(): every page and API answer
// carries them (the same rule a build applies).

async function headersFor(path: string): Promise<Map<string, string>> {
  expect(typeof nextConfig.headers).toBe("function");
  const rules = await nextConfig.headers!();
  const out = new Map<string, string>();
  for (const rule of rules) {
    // Next's path-to-regexp sources: "/:path*" matches every path
    const re = new RegExp("^" + rule.source.replace(/\/:path\*/g, "(?:/.*)?").replace(/:(\w+)/g, "[^/]+") + "$");
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

describe("security headers (next.config.ts)", () => {
  it.each(["/", "/login", "/overview", "/incidents/inc_01", "/settings/api-keys", "/operator", "/api/v1/vms", "/api/trpc/incident.list", "/api/auth/session"])(
    "%s: CSP with frame-ancestors 'none', nosniff, no framing, a referrer policy",
    async (path) => {
      const h = await headersFor(path);
      expect(h.get("x-content-type-options")).toBe("nosniff");
      expect(h.get("x-frame-options")).toBe("DENY");
      expect(h.get("referrer-policy")).toMatch(/^(no-referrer|strict-origin|strict-origin-when-cross-origin|same-origin)$/);
      const csp = h.get("content-security-policy");
      expect(csp, "Content-Security-Policy").toBeTruthy();
      const d = directives(csp!);
      expect(d.get("frame-ancestors")).toEqual(["'none'"]);
      expect(d.get("default-src")).toEqual(["'self'"]);
      // no foreign script source, no eval; plugins and <base> hijacking closed
      const scripts = d.get("script-src") ?? d.get("default-src")!;
      expect(scripts.filter((s) => !["'self'", "'unsafe-inline'"].includes(s) && !s.startsWith("'nonce-") && !s.startsWith("'sha"))).toEqual([]);
      expect(scripts).not.toContain("'unsafe-eval'");
      expect(d.get("object-src") ?? d.get("default-src")).toEqual(expect.not.arrayContaining(["*", "data:", "https:"]));
      expect(d.get("base-uri")).toEqual(["'self'"]);
      expect(d.get("form-action")).toEqual(["'self'"]);
      expect(d.get("connect-src") ?? d.get("default-src")).toEqual(["'self'"]);
    },
  );

  it("does not announce the framework", () => {
    expect(nextConfig.poweredByHeader).toBe(false);
  });
});
