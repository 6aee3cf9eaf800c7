import type { SQL } from "drizzle-orm";
import { and, eq, gte, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { LOG_EXPORT_MAX_ROWS } from "@/db/constants";
import { rawRows } from "@/db/client";
import { logEntries } from "@/db/schema";
import { NotFoundError, ValidationError } from "@/server/errors";
import { ListQuery, keysetAfter, page } from "@/server/core/cursor";
import { iso, Rfc3339 } from "@/server/core/time";
import { OperatorId } from "@/server/core/validation";
import type { TenantContext } from "@/server/context";
import { MECHANISMS } from "@/server/ingest/event-schema";
import { logEntryView } from "./log-entry";
import type { LogEntryView } from "./log-entry";

// What a log-entry service reads with: the database and the tenant (a TenantContext will do).
export type LogEntryContext = Pick<TenantContext, "db" | "tenantId">;

const HEX_ADDRESS = /^0x[0-9a-fA-F]{1,16}$/;

// The filters of the explorer, the REST list and the export: one shape, so a view's URL, its
// API call and its download all mean the same rows.
export const LogEntryFilters = z.object({
  vmId: OperatorId.optional(),
  projectId: OperatorId.optional(),
  severity: z.enum(["WARNING", "CRITICAL"]).optional(),
  incidentId: z.string().max(64).optional(),
  since: Rfc3339.optional(),
  until: Rfc3339.optional(),
  q: z
    .string()
    .trim()
    .max(200)
    .optional()
    .describe(
      "Free text: every word must appear in the message or a field (prefix match, any case)",
    ),
  mechanism: z.enum(MECHANISMS).optional(),
  consumed: z
    .enum(["true", "false"])
    .optional()
    .describe(
      "true: the guest consumed the poisoned data (CRITICAL); false: it did not",
    ),
  address: z
    .string()
    .regex(HEX_ADDRESS, "must be a hex address such as 0x1234f8000")
    .optional()
    .describe(
      "A guest physical or virtual address: entries whose gpa or gva is it",
    ),
});
export type LogEntryFilters = z.infer<typeof LogEntryFilters>;

export const LogEntryQuery = ListQuery.extend(LogEntryFilters.shape);
export type LogEntryQuery = z.infer<typeof LogEntryQuery>;

// The text search of the index log_entries_search_idx (db/schema/events.ts): every string value of
// the payload (message, mechanism, addresses, ESR names, event id…), split by the 'simple' parser.
const searchVector = sql`jsonb_to_tsvector('simple'::regconfig, ${logEntries.jsonPayload}, '["string"]'::jsonb)`;

// The search box, read like a web search by PostgreSQL's own parser (so "db-1", "kvm_exit_arm" and
// hex addresses split exactly as the entries did; "quoted phrases", -not, or), then every word
// made a prefix: "uncorrect" finds "uncorrectable".
export function searchCondition(text: string): SQL | null {
  if (!/[\p{L}\p{N}]/u.test(text)) return null;
  const query = sql`to_tsquery('simple', regexp_replace(websearch_to_tsquery('simple', ${text})::text, '''(?:[^'']|'''')*''', '\\&:*', 'g'))`;
  return sql`${searchVector} @@ ${query}`;
}

// "0x1234f8000" → "0x00000001234f8000": the form log entries hold.
export function normalizeAddress(a: string): string {
  return `0x${a.slice(2).toLowerCase().padStart(16, "0")}`;
}

function filterConditions(tenantId: string, q: LogEntryFilters): SQL[] {
  const conds: SQL[] = [eq(logEntries.tenantId, tenantId)];
  if (q.vmId) conds.push(eq(logEntries.vmId, q.vmId));
  if (q.projectId) conds.push(eq(logEntries.projectId, q.projectId));
  if (q.severity) conds.push(eq(logEntries.severity, q.severity));
  if (q.incidentId) conds.push(eq(logEntries.incidentId, q.incidentId));
  if (q.since) conds.push(gte(logEntries.timestamp, new Date(q.since)));
  if (q.until) conds.push(lt(logEntries.timestamp, new Date(q.until)));
  if (q.mechanism)
    conds.push(sql`${logEntries.jsonPayload}->>'mechanism' = ${q.mechanism}`);
  if (q.consumed)
    conds.push(
      sql`${logEntries.jsonPayload}->'consumed' = ${q.consumed}::jsonb`,
    );
  const search = q.q ? searchCondition(q.q) : null;
  if (search) conds.push(search);
  if (q.address) {
    const a = normalizeAddress(q.address);
    // the address is a token of the search vector (the index finds it), then exactly gpa or gva
    conds.push(
      sql`${searchVector} @@ to_tsquery('simple', ${`'${a}'`})`,
      sql`(${logEntries.jsonPayload}->>'gpa' = ${a} or ${logEntries.jsonPayload}->>'gva' = ${a})`,
    );
  }
  return conds;
}

// Newest first by (timestamp, insertId); since inclusive, until exclusive.
async function logEntryPage(
  ctx: LogEntryContext,
  q: LogEntryFilters,
  limit: number,
  cursor: string | undefined,
) {
  const conds = filterConditions(ctx.tenantId, q);
  const after = keysetAfter(cursor, {
    at: logEntries.timestamp,
    id: logEntries.id,
  });
  if (after) conds.push(after);
  const rows = await ctx.db
    .select()
    .from(logEntries)
    .where(and(...conds))
    // NULLS LAST as in log_entries_tenant_id_timestamp_id_idx: a bare DESC (NULLS FIRST) cannot use
    // that index and sorts every row of the tenant (a 1,000,000-entry tenant took ~1 s per page)
    .orderBy(
      sql`${logEntries.timestamp} desc nulls last`,
      sql`${logEntries.id} desc nulls last`,
    )
    .limit(limit + 1);
  return page(rows, limit, (r) => [iso(r.timestamp), r.id]);
}

export async function listLogEntries(ctx: LogEntryContext, q: LogEntryQuery) {
  const p = await logEntryPage(ctx, q, q.limit, q.cursor);
  return { data: p.data.map(logEntryView), nextCursor: p.nextCursor };
}

export async function getLogEntry(
  ctx: LogEntryContext,
  input: { insertId: string },
) {
  const [row] = await ctx.db
    .select()
    .from(logEntries)
    .where(
      and(
        eq(logEntries.tenantId, ctx.tenantId),
        eq(logEntries.id, input.insertId),
      ),
    );
  if (!row) throw new NotFoundError(`No log entry ${input.insertId}`);
  return logEntryView(row);
}

// ---- the chart over the selected range

// Bar widths a person reads at a glance; the first giving at most MAX_BARS bars wins.
const BAR_SECONDS = [
  60,
  300,
  900,
  1800,
  3600,
  3 * 3600,
  6 * 3600,
  12 * 3600,
  86400,
  2 * 86400,
  7 * 86400,
  30 * 86400,
];
const MAX_BARS = 60;

export const LogEntryHistogramInput = LogEntryFilters;

export type LogEntryHistogram = {
  since: string;
  until: string;
  barSeconds: number;
  total: number;
  bars: { start: string; end: string; count: number }[];
};

// Counts of the matching entries per bar over [since, until): `until` defaults to now, `since` to
// the tenant's oldest entry. Bars start at whole multiples of their width (UTC).
export async function countLogEntriesOverTime(
  ctx: LogEntryContext & { now: Date },
  q: LogEntryFilters,
): Promise<LogEntryHistogram> {
  const until = q.until ? new Date(q.until) : ctx.now;
  let since = q.since ? new Date(q.since) : null;
  if (!since) {
    const [row] = await rawRows<{ t: string | null }>(
      ctx.db,
      sql`select min(timestamp)::text as t from log_entries where tenant_id = ${ctx.tenantId}`,
    );
    since = row?.t ? new Date(row.t) : new Date(until.getTime() - 3600_000);
  }
  if (since >= until)
    throw new ValidationError("The range is empty", [
      { path: "since", message: "must be before until" },
    ]);
  const span = (until.getTime() - since.getTime()) / 1000;
  const barSeconds =
    BAR_SECONDS.find((s) => span / s <= MAX_BARS) ??
    Math.ceil(span / MAX_BARS / 86400) * 86400;
  const barMs = barSeconds * 1000;
  const first = Math.floor(since.getTime() / barMs) * barMs;
  const n = Math.ceil((until.getTime() - first) / barMs);
  const rows = await ctx.db
    .select({
      bar: sql<number>`floor((extract(epoch from ${logEntries.timestamp}) * 1000 - ${first}::float8) / ${barMs}::float8)::int`,
      count: sql<number>`count(*)::int`,
    })
    .from(logEntries)
    .where(
      and(
        ...filterConditions(ctx.tenantId, {
          ...q,
          since: since.toISOString(),
          until: until.toISOString(),
        }),
      ),
    )
    .groupBy(sql`1`);
  const counts = new Map(rows.map((r) => [Number(r.bar), Number(r.count)]));
  const bars = Array.from({ length: n }, (_, i) => {
    const start = Math.max(first + i * barMs, since.getTime());
    const end = Math.min(first + (i + 1) * barMs, until.getTime());
    return {
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      count: counts.get(i) ?? 0,
    };
  });
  return {
    since: since.toISOString(),
    until: until.toISOString(),
    barSeconds,
    total: bars.reduce((s, b) => s + b.count, 0),
    bars,
  };
}

// ---- export of a view

export const EXPORT_MAX_ROWS = LOG_EXPORT_MAX_ROWS;
const EXPORT_BATCH = 1000;

export const LogEntryExportQuery = LogEntryFilters.extend({
  format: z.enum(["csv", "ndjson"]).default("ndjson"),
});
export type LogEntryExportQuery = z.infer<typeof LogEntryExportQuery>;

export const CSV_COLUMNS = [
  "insertId",
  "timestamp",
  "receiveTimestamp",
  "severity",
  "projectId",
  "vmId",
  "zone",
  "incidentId",
  "playbook",
  "mechanism",
  "consumed",
  "gpa",
  "gva",
  "message",
  "jsonPayload",
] as const;

// RFC 4180: a field with a comma, quote or line break is quoted and its quotes doubled. A text
// that a spreadsheet would run as a formula (= + - @, tab, CR first) gets a leading apostrophe.
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return "";
  let s = typeof v === "string" ? v : JSON.stringify(v);
  if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(e: LogEntryView): string {
  const p = e.jsonPayload;
  const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    insertId: e.insertId,
    timestamp: e.timestamp,
    receiveTimestamp: e.receiveTimestamp,
    severity: e.severity,
    projectId: e.resource.labels.projectId,
    vmId: e.resource.labels.vmId,
    zone: e.resource.labels.zone,
    incidentId: e.incidentId,
    playbook: e.playbook,
    mechanism: p.mechanism,
    consumed: p.consumed,
    gpa: p.gpa,
    gva: p.gva,
    message: p.message,
    jsonPayload: p,
  };
  return `${CSV_COLUMNS.map((c) => csvField(cells[c])).join(",")}\r\n`;
}

// The matching entries, newest first, as CSV or NDJSON text chunks: read in keyset batches so
// memory stays flat, and at most EXPORT_MAX_ROWS rows.
export async function* exportLogEntries(
  ctx: LogEntryContext,
  q: LogEntryExportQuery,
  batch = EXPORT_BATCH,
): AsyncGenerator<string> {
  if (q.format === "csv") yield `${CSV_COLUMNS.join(",")}\r\n`;
  let cursor: string | undefined;
  let sent = 0;
  while (sent < EXPORT_MAX_ROWS) {
    const p = await logEntryPage(
      ctx,
      q,
      Math.min(batch, EXPORT_MAX_ROWS - sent),
      cursor,
    );
    if (p.data.length === 0) break;
    const views = p.data.map(logEntryView);
    yield views
      .map((e) => (q.format === "csv" ? csvRow(e) : `${JSON.stringify(e)}\n`))
      .join("");
    sent += views.length;
    if (!p.nextCursor) break;
    cursor = p.nextCursor;
  }
}

export function exportFileName(q: LogEntryExportQuery, at: Date): string {
  const stamp = at.toISOString().replace(/[:.]/g, "-");
  return `log-entries-${stamp}.${q.format === "csv" ? "csv" : "ndjson"}`;
}
