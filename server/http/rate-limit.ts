import { RateLimitedError } from "@/server/errors";

// Per-key token bucket, in process. Generous by default: a fleet-wide error storm is not abuse.
export type BucketConfig = { capacity: number; refillPerSecond: number };

export class RateLimiter {
  private buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    public config: BucketConfig,
    private clock: () => number = () => Date.now(),
  ) {}

  take(key: string, cost: number, what: string): void {
    const t = this.clock();
    const b = this.buckets.get(key) ?? { tokens: this.config.capacity, at: t };
    b.tokens = Math.min(this.config.capacity, b.tokens + ((t - b.at) / 1000) * this.config.refillPerSecond);
    b.at = t;
    if (b.tokens < cost) {
      this.buckets.set(key, b);
      const wait = Math.min(cost, this.config.capacity) - b.tokens;
      throw new RateLimitedError(`Too many ${what}; retry later`, Math.max(1, wait / this.config.refillPerSecond));
    }
    b.tokens -= cost;
    this.buckets.set(key, b);
    if (this.buckets.size > 200_000) this.buckets.clear();
  }

  reset(): void {
    this.buckets.clear();
  }
}
