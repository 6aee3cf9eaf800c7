import type { ErrorDetail } from "@/server/errors";

export const MAX_JSON_DEPTH = 32;

// PostgreSQL text and jsonb cannot hold U+0000, and deep nesting is an attack, not data: both are
// refused up front as bad input instead of failing later in the database.
export function jsonLimitProblem(value: unknown, maxDepth = MAX_JSON_DEPTH): ErrorDetail | null {
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: "", depth: 0 }];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes("\u0000")) return { path, message: "strings may not contain the NUL character (\\u0000)" };
    } else if (v !== null && typeof v === "object") {
      if (depth >= maxDepth) return { path, message: `nested deeper than ${maxDepth} levels` };
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        if (k.includes("\u0000")) return { path, message: "keys may not contain the NUL character (\\u0000)" };
        stack.push({ v: child, path: path ? `${path}.${k}` : k, depth: depth + 1 });
      }
    }
  }
  return null;
}
