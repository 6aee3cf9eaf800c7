// Every time-driven part of the agent (linger, backoff, Retry-After, reconnects, rescans) reads
// these, so tests move time by hand instead of sleeping.
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  // jitter; tests pin it
  random(): number;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  random: () => Math.random(),
};

// A promise that resolves after ms, or at once when `cancel` is called.
export function sleep(
  timers: Timers,
  ms: number,
): { done: Promise<void>; cancel: () => void } {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const h = timers.setTimeout(resolve, Math.max(0, ms));
  return {
    done,
    cancel: () => {
      timers.clearTimeout(h);
      resolve();
    },
  };
}

// Exponential backoff with "equal jitter": half the step fixed, half random, so retries from many
// hosts spread out yet never come sooner than half the step.
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number,
): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + (random() * step) / 2);
}
