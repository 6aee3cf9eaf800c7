// The security headers of every answer. Pages get a Content-Security-Policy with a fresh nonce
// per request (proxy.ts): Next.js puts that nonce on its own scripts, so no inline script runs
// without it. Other answers (the APIs, JSON) get the same policy without one.

export const STATIC_SECURITY_HEADERS = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "X-Frame-Options", value: "DENY" },
];

export function contentSecurityPolicy(
  opts: { nonce?: string; dev?: boolean } = {},
): string {
  const scripts = ["'self'"];
  if (opts.nonce) scripts.push(`'nonce-${opts.nonce}'`, "'strict-dynamic'");
  // React's development build evaluates code for its error overlay; never in production
  if (opts.dev) scripts.push("'unsafe-eval'");
  return [
    "default-src 'self'",
    `script-src ${scripts.join(" ")}`,
    // React and Tailwind set style attributes; styles cannot run code
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join("; ");
}

// 128 random bits, base64: unguessable, and a valid CSP nonce-source.
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

// HTTPS only from here on (two years), when the service is reached over https; an http
// PUBLIC_URL (development, tests) gets none, so a browser never pins localhost to https.
export function strictTransportSecurity(publicUrl: string): string | null {
  return publicUrl.startsWith("https://") ? "max-age=63072000" : null;
}

// The header on an answer the route handlers make (REST, tRPC, /api/auth); pages get it in proxy.ts.
export function withStrictTransportSecurity(
  res: Response,
  publicUrl: string,
): Response {
  const hsts = strictTransportSecurity(publicUrl);
  if (!hsts) return res;
  try {
    res.headers.set("Strict-Transport-Security", hsts);
    return res;
  } catch {
    // a Response.redirect() has immutable headers: copy it
    const copy = new Response(res.body, res);
    copy.headers.set("Strict-Transport-Security", hsts);
    return copy;
  }
}
