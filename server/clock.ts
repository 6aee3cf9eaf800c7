// Every time-driven behaviour reads this clock, so tests can move time without sleeping.
type ClockFn = () => Date;

const g = globalThis as unknown as { __pwClock?: ClockFn };

export function now(): Date {
  return g.__pwClock ? g.__pwClock() : new Date();
}

export function setClock(fn: ClockFn | undefined): void {
  g.__pwClock = fn;
}

export function isClockOverridden(): boolean {
  return g.__pwClock !== undefined;
}
