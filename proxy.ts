import { NextResponse } from "next/server";
import type { NextRequest } from "next/server";
import { env } from "@/server/env";
import {
  contentSecurityPolicy,
  newNonce,
  strictTransportSecurity,
} from "@/server/http/security-headers";

// Every page gets a Content-Security-Policy with a nonce of its own. The policy also goes on the
// request: Next.js reads the nonce there and puts it on the scripts it renders.
export function proxy(request: NextRequest) {
  const csp = contentSecurityPolicy({
    nonce: newNonce(),
    dev: process.env.NODE_ENV === "development",
  });
  const headers = new Headers(request.headers);
  headers.set("content-security-policy", csp);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("Content-Security-Policy", csp);
  const hsts = strictTransportSecurity(env().publicUrl);
  if (hsts) response.headers.set("Strict-Transport-Security", hsts);
  return response;
}

export const config = {
  // pages only: the APIs and static files get their headers from next.config.ts
  matcher: [
    {
      source: "/((?!api/|_next/static|_next/image|favicon.ico).*)",
      missing: [{ type: "header", key: "next-router-prefetch" }],
    },
  ],
};
