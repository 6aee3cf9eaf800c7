import { it } from "vitest";

// Declares a case only where it applies, so a route without a body (say) has no body case at all
// instead of a skipped one.
export function itWhen(
  applies: boolean,
): (name: string, fn: () => Promise<void> | void, timeout?: number) => void {
  return applies ? (name, fn, timeout) => it(name, fn, timeout) : () => {};
}
