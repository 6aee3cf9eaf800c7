import { and, eq, gt, lt, or } from "drizzle-orm";
import type { SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { z } from "zod";
import { ValidationError } from "@/server/errors";
import { textProblem } from "./json-limits";
import { inInstantRange } from "./time";

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
  typeof x === "string" && ISO_UTC.test(x) && inInstantRange(Date.parse(x));

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

// The keyset condition for the rows after a cursor: lists ordered by id ascending take `{ id }`,
// lists ordered newest first by a time and then id take `{ at, id }` (page() keys them alike).
export function keysetAfter(
  cursor: string | undefined,
  key: { at?: AnyPgColumn; id: AnyPgColumn },
): SQL | undefined {
  if (!key.at) {
    const c = decodeCursor(cursor, 1) as [string] | null;
    return c ? gt(key.id, c[0]) : undefined;
  }
  const c = decodeCursor(cursor, 2) as [string, string] | null;
  if (!c) return undefined;
  const t = new Date(c[0]);
  return or(lt(key.at, t), and(eq(key.at, t), lt(key.id, c[1])));
}
