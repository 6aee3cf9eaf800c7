import { z } from "zod";
import { OPERATOR_ID_PATTERN } from "@/db/ids";
import { ValidationError } from "@/server/errors";
import { textProblem } from "./json-limits";
import type { ErrorDetail } from "@/server/errors";

export const OperatorId = z
  .string()
  .regex(OPERATOR_ID_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");

// The instants a timestamptz takes and iso() writes with a four-digit year.
const MIN_INSTANT = Date.parse("0001-01-01T00:00:00Z");
const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const inRange = (ms: number) =>
  Number.isFinite(ms) && ms >= MIN_INSTANT && ms <= MAX_INSTANT;

// RFC 3339 with any offset on input, naming an instant of the years 0001–9999 in UTC.
export const Rfc3339 = z.iso
  .datetime({ offset: true, local: false })
  .refine(
    (s) => inRange(Date.parse(s)),
    "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z",
  );

// RFC 3339 in UTC with milliseconds and Z, in every answer.
export function iso(d: Date): string;
export function iso(d: Date | null): string | null;
export function iso(d: Date | null | undefined): string | null {
  return d ? d.toISOString() : null;
}

export function zodDetails(error: z.ZodError, prefix = ""): ErrorDetail[] {
  return error.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join("."),
    message: i.message,
  }));
}

export function parseOrThrow<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new ValidationError(
      `Invalid ${what}`,
      zodDetails(r.error, what === "body" ? "" : what),
    );
  return r.data;
}

// Lists: { data, nextCursor }; the cursor is opaque base64url JSON of the last row's sort key.
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(512).optional(),
});

export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

// Every list is ordered by id, or by a time and then id: a cursor is [id] or [iso(time), id].
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const isCursorId = (x: unknown) =>
  typeof x === "string" && x.length <= 128 && textProblem(x) === null;
const isCursorTime = (x: unknown) =>
  typeof x === "string" && ISO_UTC.test(x) && inRange(Date.parse(x));

export function decodeCursor(
  cursor: string | undefined,
  arity: 1 | 2,
): unknown[] | null {
  if (!cursor) return null;
  try {
    const v = JSON.parse(
      Buffer.from(cursor, "base64url").toString("utf8"),
    ) as unknown;
    if (
      Array.isArray(v) &&
      v.length === arity &&
      isCursorId(v[arity - 1]) &&
      (arity === 1 || isCursorTime(v[0]))
    )
      return v;
  } catch {
    /* fall through */
  }
  throw new ValidationError("Invalid cursor", [
    { path: "cursor", message: "not a cursor this API made" },
  ]);
}

export function page<T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => unknown[],
) {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return {
    data,
    nextCursor: hasMore && last ? encodeCursor(keyOf(last)) : null,
  };
}
