import type { ErrorDetail } from "@/server/errors";

export const MAX_JSON_DEPTH = 32;

// An unpaired UTF-16 surrogate is no character: UTF-8 cannot encode it and jsonb refuses its \u escape.
const LONE_SURROGATE =
  /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

// PostgreSQL text and jsonb can hold neither U+0000 nor a lone surrogate: such a string is bad
// input, refused up front instead of failing later in the database.
export function textProblem(s: string): string | null {
  if (s.includes("\u0000"))
    return "may not contain the NUL character (\\u0000)";
  if (LONE_SURROGATE.test(s))
    return "may not contain an unpaired UTF-16 surrogate";
  return null;
}

// Deep nesting is an attack, not data: refused like the strings above.
export function jsonLimitProblem(
  value: unknown,
  maxDepth = MAX_JSON_DEPTH,
): ErrorDetail | null {
  const stack: { v: unknown; path: string; depth: number }[] = [
    { v: value, path: "", depth: 0 },
  ];
  while (stack.length) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === "string") {
      const p = textProblem(v);
      if (p) return { path, message: `strings ${p}` };
    } else if (v !== null && typeof v === "object") {
      if (depth >= maxDepth)
        return { path, message: `nested deeper than ${maxDepth} levels` };
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const p = textProblem(k);
        if (p) return { path, message: `keys ${p}` };
        stack.push({
          v: child,
          path: path ? `${path}.${k}` : k,
          depth: depth + 1,
        });
      }
    }
  }
  return null;
}
