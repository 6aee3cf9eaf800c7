import { z } from "zod";
import { OPERATOR_ID_PATTERN } from "@/db/ids";
import { ValidationError } from "@/server/errors";
import type { ErrorDetail } from "@/server/errors";

export const OperatorId = z
  .string()
  .regex(OPERATOR_ID_PATTERN, "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");

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
