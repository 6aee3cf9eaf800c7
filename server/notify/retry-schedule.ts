const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

// Svix-like: quick retries for blips, then hours apart so a receiver down for a day still gets the
// message. Delay i follows attempt i + 1; the sum is ~71.6 h (≥ 57 h even with the most negative jitter).
const BASE_DELAYS_MS: readonly number[] = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  20 * HOUR,
];

export const MAX_ATTEMPTS = BASE_DELAYS_MS.length + 1;
export const JITTER_RATIO = 0.2;
export const MAX_DELAY_MS = 24 * HOUR;

/**
 * Delay before the next attempt, given how many attempts were made so far (≥ 1); null when none remain.
 * `retryAfterSeconds` can only lengthen the wait, and no wait exceeds 24 h.
 */
export function nextAttemptDelayMs(
  attemptNumber: number,
  opts: { retryAfterSeconds?: number; random?: () => number } = {},
): number | null {
  if (!Number.isInteger(attemptNumber) || attemptNumber < 1) {
    throw new RangeError(
      `attemptNumber must be an integer ≥ 1, got ${attemptNumber}`,
    );
  }
  const base = BASE_DELAYS_MS[attemptNumber - 1];
  if (base === undefined) return null;
  const raw = (opts.random ?? Math.random)();
  const r = Number.isFinite(raw) ? Math.min(1, Math.max(0, raw)) : 0.5;
  let delay = base * (1 + JITTER_RATIO * (2 * r - 1));
  const { retryAfterSeconds } = opts;
  if (
    retryAfterSeconds !== undefined &&
    Number.isFinite(retryAfterSeconds) &&
    retryAfterSeconds > 0
  ) {
    delay = Math.max(delay, retryAfterSeconds * SECOND);
  }
  return Math.round(Math.min(delay, MAX_DELAY_MS));
}
