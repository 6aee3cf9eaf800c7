import { isIP } from "node:net";
import { env } from "@/server/env";

// The client's address for rate limits, or null when it is not known. X-Forwarded-For is read
// only through TRUSTED_PROXY_HOPS proxies: each appends the address it saw, so the client is the
// entry that many places from the right; whatever the client wrote itself stands further left
// and is ignored. With 0 (the default) the header is ignored: Next.js keeps a client's own header
// instead of the socket address, so without a proxy no header can be trusted.
export function clientAddress(headers: Headers): string | null {
  const hops = env().TRUSTED_PROXY_HOPS;
  if (hops === 0) return null;
  const entries = (headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const entry = entries[entries.length - hops];
  return entry && isIP(entry) ? entry : null;
}
