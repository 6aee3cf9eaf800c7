import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { projects } from "@/db/schema";
import { audit } from "@/server/audit";
import type { TenantContext } from "@/server/context";
import { NotFoundError } from "@/server/errors";

// A project's maintenance window: when its tenant prefers restarts of the project's VMs. A new
// evacuation is scheduled at the window's next opening when that comes before its deadline.

export const WEEKDAYS = [
  "sun",
  "mon",
  "tue",
  "wed",
  "thu",
  "fri",
  "sat",
] as const;
export type Weekday = (typeof WEEKDAYS)[number];

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const MaintenanceWindow = z.strictObject({
  days: z
    .array(z.enum(WEEKDAYS))
    .min(1, "name at least one day")
    .max(7)
    .refine((d) => new Set(d).size === d.length, "each day once"),
  start: z
    .string()
    .regex(
      /^([01]\d|2[0-3]):[0-5]\d$/,
      "must be HH:MM (00:00–23:59), local time of timeZone",
    ),
  durationMinutes: z.number().int().min(30).max(720),
  timeZone: z
    .string()
    .min(1)
    .max(64)
    .refine(isTimeZone, "must be an IANA time zone, e.g. Europe/Berlin"),
});
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;

export const MaintenanceWindowInput = MaintenanceWindow.nullable();

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterOf(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

// The wall-clock fields of an instant in a time zone, as if they were UTC.
function wallClockMs(at: number, tz: string): number {
  const parts = Object.fromEntries(
    formatterOf(tz)
      .formatToParts(new Date(at))
      .map((p) => [p.type, p.value]),
  );
  return Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
}

// The instant at which the wall clock of tz shows `wall` (a UTC-encoded wall time): of two (a
// repeated hour) the earlier; in a DST gap, where `wall` does not exist, as much later as the gap
// is long (03:30 for a 02:30 skipped) — never before the local time asked for.
function instantOf(wall: number, tz: string): number {
  const offsets = [
    ...new Set(
      [-86400_000, 0, 86400_000].map(
        (d) => wallClockMs(wall + d, tz) - (wall + d),
      ),
    ),
  ];
  const exact = offsets
    .map((o) => wall - o)
    .filter((t) => wallClockMs(t, tz) === wall);
  if (exact.length) return Math.min(...exact);
  return wall - Math.min(...offsets);
}

// The openings of the window as [start, end) instants, for local days from one before `from` to
// eight after it (enough to find the next opening of any weekly window).
function openingsAround(
  w: MaintenanceWindow,
  from: number,
): [number, number][] {
  const [hh, mm] = w.start.split(":").map(Number) as [number, number];
  const day0 =
    Math.floor(wallClockMs(from, w.timeZone) / 86400_000) * 86400_000;
  const out: [number, number][] = [];
  for (let i = -1; i <= 8; i++) {
    const day = day0 + i * 86400_000;
    if (!w.days.includes(WEEKDAYS[new Date(day).getUTCDay()]!)) continue;
    const start = instantOf(day + (hh * 60 + mm) * 60_000, w.timeZone);
    out.push([start, start + w.durationMinutes * 60_000]);
  }
  return out;
}

// The earliest instant ≥ from that lies inside an opening of the window.
export function nextOpening(w: MaintenanceWindow, from: Date): Date {
  const t = from.getTime();
  let best = Number.POSITIVE_INFINITY;
  for (const [start, end] of openingsAround(w, t)) {
    if (t >= start && t < end) return new Date(t);
    if (start >= t && start < best) best = start;
  }
  return new Date(best);
}

export async function maintenanceWindowsOf(
  db: Db,
  projectIds: string[],
): Promise<Map<string, MaintenanceWindow>> {
  const out = new Map<string, MaintenanceWindow>();
  for (const id of [...new Set(projectIds)]) {
    const [row] = await db
      .select({ w: projects.maintenanceWindow })
      .from(projects)
      .where(eq(projects.id, id));
    if (row?.w) out.set(id, row.w as MaintenanceWindow);
  }
  return out;
}

export async function getMaintenanceWindow(
  ctx: TenantContext,
  input: { projectId: string },
): Promise<MaintenanceWindow | null> {
  const { db, tenantId } = ctx;
  const { projectId } = input;
  const [row] = await db
    .select({ w: projects.maintenanceWindow })
    .from(projects)
    .where(and(eq(projects.tenantId, tenantId), eq(projects.id, projectId)));
  if (!row) throw new NotFoundError("No such project of this tenant");
  return (row.w as MaintenanceWindow | null) ?? null;
}

export async function putMaintenanceWindow(
  ctx: TenantContext,
  input: { projectId: string; window: MaintenanceWindow | null },
): Promise<MaintenanceWindow | null> {
  const { projectId } = input;
  const at = ctx.now;
  const [row] = await ctx.db
    .update(projects)
    .set({ maintenanceWindow: input.window, updatedAt: at })
    .where(and(eq(projects.tenantId, ctx.tenantId), eq(projects.id, projectId)))
    .returning({ id: projects.id });
  if (!row) throw new NotFoundError("No such project of this tenant");
  await audit(ctx.db, {
    tenantId: ctx.tenantId,
    actor: ctx.actor,
    action: "maintenance_window.update",
    target: projectId,
    details: { window: input.window },
  });
  return input.window;
}
