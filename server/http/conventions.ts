import { z } from "zod";
import { OPERATOR_ID_PATTERN } from "@/db/ids";
import { ValidationError } from "@/server/errors";
import type { ErrorDetail } from "@/server/errors";

export const OperatorId = z
  .string()
  .regex(OPERATOR_ID_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");

// RFC 3339 with any offset on input.
export const Rfc3339 = z.iso.datetime({ offset: true, local: false });

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

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new ValidationError(`Invalid ${what}`, zodDetails(r.error, what === "body" ? "" : what));
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

export function decodeCursor(cursor: string | undefined, arity: number): unknown[] | null {
  if (!cursor) return null;
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(v) && v.length === arity && v.every((x) => typeof x === "string")) return v;
  } catch {
    /* fall through */
  }
  throw new ValidationError("Invalid cursor", [{ path: "cursor", message: "not a cursor this API made" }]);
}

export function page<T>(rows: T[], limit: number, keyOf: (row: T) => unknown[]) {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return { data, nextCursor: hasMore && last ? encodeCursor(keyOf(last)) : null };
}
