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
    b.tokens = Math.min(
      this.config.capacity,
      b.tokens + ((t - b.at) / 1000) * this.config.refillPerSecond,
    );
    b.at = t;
    if (b.tokens < cost) {
      this.buckets.set(key, b);
      const wait = Math.min(cost, this.config.capacity) - b.tokens;
      throw new RateLimitedError(
        `Too many ${what}; retry later`,
        Math.max(1, wait / this.config.refillPerSecond),
      );
    }
    b.tokens -= cost;
    this.buckets.set(key, b);
    if (this.buckets.size > 200_000) this.buckets.clear();
  }

  reset(): void {
    this.buckets.clear();
  }
}

// At most `max` takes per key within any `windowSeconds` (a sliding window: unlike a bucket, it
// never lets 2 × max through around a refill). For limits stated "N per hour".
export class WindowLimiter {
  private hits = new Map<string, number[]>();
  constructor(
    public config: { max: number; windowSeconds: number },
    private clock: () => number = () => Date.now(),
  ) {}

  take(key: string, what: string): void {
    const t = this.clock();
    const from = t - this.config.windowSeconds * 1000;
    const recent = (this.hits.get(key) ?? []).filter((x) => x > from);
    if (recent.length >= this.config.max) {
      this.hits.set(key, recent);
      throw new RateLimitedError(
        `Too many ${what}; retry later`,
        (recent[0]! - from) / 1000,
      );
    }
    recent.push(t);
    this.hits.set(key, recent);
    if (this.hits.size > 200_000) this.hits.clear();
  }

  reset(): void {
    this.hits.clear();
  }
}
