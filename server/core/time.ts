import { z } from "zod";

// The instants a timestamptz takes and iso() writes with a four-digit year.
const MIN_INSTANT = Date.parse("0001-01-01T00:00:00Z");
const MAX_INSTANT = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const inInstantRange = (ms: number) =>
  Number.isFinite(ms) && ms >= MIN_INSTANT && ms <= MAX_INSTANT;

// RFC 3339 with any offset on input, naming an instant of the years 0001–9999 in UTC.
export const Rfc3339 = z.iso
  .datetime({ offset: true, local: false })
  .refine(
    (s) => inInstantRange(Date.parse(s)),
    "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z",
  );

// RFC 3339 in UTC with milliseconds and Z, in every answer.
export function iso(d: Date): string;
export function iso(d: Date | null): string | null;
export function iso(d: Date | null | undefined): string | null {
  return d ? d.toISOString() : null;
}
