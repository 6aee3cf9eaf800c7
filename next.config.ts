import type { NextConfig } from "next";
import { validateEnv } from "./server/env";
import {
  contentSecurityPolicy,
  STATIC_SECURITY_HEADERS,
} from "./server/http/security-headers";

// A bad environment fails the build and the start, not the first request.
validateEnv();

// Pages get their Content-Security-Policy, with a nonce, from proxy.ts.
const nonceFreeCsp = [
  { key: "Content-Security-Policy", value: contentSecurityPolicy() },
];

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // esbuild: the database thread bundles its tasks with it (db/thread-tasks.mjs)
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pg-boss",
    "postgres",
    "esbuild",
  ],
  async headers() {
    return [
      { source: "/:path*", headers: STATIC_SECURITY_HEADERS },
      { source: "/api/:path*", headers: nonceFreeCsp },
      { source: "/_next/:path*", headers: nonceFreeCsp },
    ];
  },
};

export default nextConfig;
