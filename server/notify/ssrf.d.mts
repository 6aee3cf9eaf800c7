// server/notify/ssrf.mjs: plain JavaScript, because the HTTP sender's worker thread loads it from
// disk (production has no TypeScript loader).

export const MAX_WEBHOOK_URL_LENGTH: number;

// Only globally routable unicast counts (IPv4 and IPv6, embedded IPv4 judged by what it embeds).
export function isPublicAddress(ip: string): boolean;

export type UrlCheck = { ok: true } | { ok: false; message: string };

// Syntactic check at save time; the address actually connected to is checked again at delivery.
export function validateWebhookUrl(
  url: string,
  opts: { allowPrivate: boolean },
): UrlCheck;
