import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_ATTEMPTS,
  MAX_DELAY_MS,
  nextAttemptDelayMs,
} from "@/server/notify/retry-schedule";

const HOUR = 3_600_000;

function schedule(random: () => number): number[] {
  const delays: number[] = [];
  for (let attempts = 1; ; attempts++) {
    const delay = nextAttemptDelayMs(attempts, { random });
    if (delay === null) return delays;
    delays.push(delay);
  }
}

describe("nextAttemptDelayMs", () => {
  it.each([0, 1])(
    "gives at least 8 attempts over at least 24 h with random=%s",
    (value) => {
      const delays = schedule(() => value);
      expect(delays.length + 1).toBe(MAX_ATTEMPTS);
      expect(MAX_ATTEMPTS).toBeGreaterThanOrEqual(8);
      expect(delays.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(
        24 * HOUR,
      );
      expect(delays.every((d) => d > 0 && d <= MAX_DELAY_MS)).toBe(true);
    },
  );

  it("starts within seconds and returns null once attempts are exhausted", () => {
    const first = nextAttemptDelayMs(1, { random: () => 0.5 });
    expect(first).toBe(5000);
    expect(nextAttemptDelayMs(MAX_ATTEMPTS, { random: () => 0.5 })).toBeNull();
    expect(nextAttemptDelayMs(MAX_ATTEMPTS + 5)).toBeNull();
    expect(() => nextAttemptDelayMs(0)).toThrow(RangeError);
    expect(() => nextAttemptDelayMs(1.5)).toThrow(RangeError);
  });

  it("jitters by ±20% around the base delay", () => {
    const low = nextAttemptDelayMs(2, { random: () => 0 });
    const mid = nextAttemptDelayMs(2, { random: () => 0.5 });
    const high = nextAttemptDelayMs(2, { random: () => 1 });
    expect([low, mid, high]).toEqual([240_000, 300_000, 360_000]);
  });

  it("honours Retry-After when it is longer than the schedule, capped at 24 h", () => {
    const random = () => 0.5;
    expect(nextAttemptDelayMs(1, { retryAfterSeconds: 7, random })).toBe(7000);
    expect(nextAttemptDelayMs(1, { retryAfterSeconds: 2, random })).toBe(5000);
    expect(nextAttemptDelayMs(3, { retryAfterSeconds: 60, random })).toBe(
      30 * 60_000,
    );
    expect(
      nextAttemptDelayMs(1, { retryAfterSeconds: 10 * 24 * 3600, random }),
    ).toBe(MAX_DELAY_MS);
    expect(
      nextAttemptDelayMs(MAX_ATTEMPTS, { retryAfterSeconds: 7, random }),
    ).toBeNull();
  });

  it("stays within bounds for any random value and Retry-After", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: MAX_ATTEMPTS - 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 10 ** 9 }), { nil: undefined }),
        (attempts, r, retryAfterSeconds) => {
          const delay = nextAttemptDelayMs(attempts, {
            random: () => r,
            retryAfterSeconds,
          });
          const plain = nextAttemptDelayMs(attempts, { random: () => r });
          if (delay === null || plain === null)
            throw new Error("attempts remain, a delay is expected");
          expect(delay).toBeGreaterThanOrEqual(plain);
          expect(delay).toBeLessThanOrEqual(MAX_DELAY_MS);
          expect(Number.isInteger(delay)).toBe(true);
        },
      ),
    );
  });
});
