import { now } from "@/server/clock";
import { RateLimiter } from "@/server/core/rate-limit";

// Per-tenant caps on what a member (or the tenant's API key) can make the service do on demand:
// each endpoint is work for every notification, and each test, retry or recovery is outgoing
// traffic to a URL the tenant chose.
export const MAX_WEBHOOK_ENDPOINTS = 50;

const clock = () => now().getTime();
const perMinute = (n: number) => ({ capacity: n, refillPerSecond: n / 60 });
export const WEBHOOK_ACTION_LIMITS = {
  test: perMinute(30),
  retry: perMinute(120),
  // each recovery may resend up to 14 days of failed messages
  recover: { capacity: 20, refillPerSecond: 20 / 3600 },
};

const limiters = {
  test: new RateLimiter(WEBHOOK_ACTION_LIMITS.test, clock),
  retry: new RateLimiter(WEBHOOK_ACTION_LIMITS.retry, clock),
  recover: new RateLimiter(WEBHOOK_ACTION_LIMITS.recover, clock),
};

const WHAT = {
  test: "test messages",
  retry: "delivery retries",
  recover: "recoveries",
};

// 429 with Retry-After once the tenant's allowance of this action is used up.
export function takeWebhookAction(
  tenantId: string,
  action: keyof typeof limiters,
): void {
  limiters[action].take(tenantId, 1, `webhook ${WHAT[action]} for this tenant`);
}
