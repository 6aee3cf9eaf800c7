import type { SQL } from "drizzle-orm";
import { and, eq, gte, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { LOG_EXPORT_MAX_ROWS } from "@/db/constants";
import { rawRows } from "@/db/client";
import { logEntries, logEntryHours } from "@/db/schema";
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
export function searchCondition(
  text: string,
  plan: SearchPlan = "index",
): SQL | null {
  if (!/[\p{L}\p{N}]/u.test(text)) return null;
  const query = sql`to_tsquery('simple', regexp_replace(websearch_to_tsquery('simple', ${text})::text, '''(?:[^'']|'''')*''', '\\&:*', 'g'))`;
  return plan === "walk"
    ? sql`(${searchVector} || ''::tsvector) @@ ${query}`
    : sql`${searchVector} @@ ${query}`;
}

// ---- how a search is run
//
// A text search runs one of two ways, and PostgreSQL cannot choose between them itself: it
// estimates every prefix word ("uncorrect:*") at ~2 % of rows whatever the word, so at 1,000,000
// entries it walked the whole timestamp index for a word no entry has (recomputing each entry's
// text vector: 66 s on PGlite) and built a lossy bitmap of nearly every row for a word all entries
// have (72 s). So we choose, from what ANALYZE keeps of the index's words (pg_stats of
// log_entries_search_idx: the common words and the share of entries that have each):
// - "walk": a common word. Read the newest entries in order and keep the matching ones; a page is
//   found within a few hundred entries. The condition is written so that the index cannot serve
//   it (`|| ''::tsvector`), or the planner would take the bitmap.
// - "index": a rare word (or one ANALYZE has not seen). Find the matches in the GIN index, then
//   sort those few; the index walk is switched off for the query (SET LOCAL enable_indexscan).
export type SearchPlan = "walk" | "index";

// From this share of entries matching: the walk reads ~51 / share entries for a page (≤ ~1,000),
// the index would fetch share × all of them.
export const WALK_SHARE = 0.05;

// The share of entries a search matches, estimated from the words of its tsquery (as
// websearch_to_tsquery prints it) and the common words' shares: a (prefix) word matches the most
// common word it begins; a word that is not common counts as rare (0); words joined by "|" take
// the largest share, otherwise the smallest (each must match); negated words are left out, and a
// search of negated words only matches most entries.
export function estimateSearchShare(
  tsquery: string,
  common: ReadonlyMap<string, number>,
): number {
  const words: number[] = [];
  const re = /(!?)\s*'((?:[^']|'')*)'/g;
  for (let m = re.exec(tsquery); m; m = re.exec(tsquery)) {
    if (m[1]) continue;
    const w = m[2]!.replace(/''/g, "'");
    let share = 0;
    for (const [word, f] of common)
      if (word.startsWith(w) && f > share) share = f;
    words.push(share);
  }
  if (!words.length) return 1;
  return tsquery.includes("|") ? Math.max(...words) : Math.min(...words);
}

const STATS_TTL_MS = 60_000;
let commonWords: { at: number; words: Map<string, number> } | null = null;

// The index's common words and their shares (read again once a minute: ANALYZE changes them).
async function commonSearchWords(
  ctx: LogEntryContext,
): Promise<Map<string, number>> {
  const at = Date.now();
  if (commonWords && at - commonWords.at < STATS_TTL_MS)
    return commonWords.words;
  const rows = await rawRows<{ e: string[] | null; f: number[] | null }>(
    ctx.db,
    sql`select most_common_elems::text::text[] as e, most_common_elem_freqs::float8[] as f
        from pg_stats where schemaname = current_schema() and tablename = 'log_entries_search_idx'`,
  );
  const words = new Map<string, number>();
  const f = rows[0]?.f ?? [];
  (rows[0]?.e ?? []).forEach((w, i) => words.set(w, Number(f[i] ?? 0)));
  commonWords = { at, words };
  return words;
}

export async function chooseSearchPlan(
  ctx: LogEntryContext,
  text: string,
): Promise<SearchPlan> {
  const [row] = await rawRows<{ q: string }>(
    ctx.db,
    sql`select websearch_to_tsquery('simple', ${text})::text as q`,
  );
  const share = estimateSearchShare(row?.q ?? "", await commonSearchWords(ctx));
  return share >= WALK_SHARE ? "walk" : "index";
}

// "0x1234f8000" → "0x00000001234f8000": the form log entries hold.
export function normalizeAddress(a: string): string {
  return `0x${a.slice(2).toLowerCase().padStart(16, "0")}`;
}

function filterConditions(
  tenantId: string,
  q: LogEntryFilters,
  plan: SearchPlan = "index",
): SQL[] {
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
  const search = q.q ? searchCondition(q.q, plan) : null;
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

// Newest first by (timestamp, insertId); since inclusive, until exclusive. `plan` overrides the
// chosen way of running a search (tests compare both).
export async function logEntryPage(
  ctx: LogEntryContext,
  q: LogEntryFilters,
  limit: number,
  cursor: string | undefined,
  plan?: SearchPlan,
) {
  const how: SearchPlan | null =
    q.q && searchCondition(q.q)
      ? (plan ?? (await chooseSearchPlan(ctx, q.q)))
      : null;
  // an address is a rare word of the index: it always goes through the index (and a common word
  // beside it is then checked on its few rows)
  const byIndex = how === "index" || q.address !== undefined;
  const conds = filterConditions(ctx.tenantId, q, how ?? "index");
  const after = keysetAfter(cursor, {
    at: logEntries.timestamp,
    id: logEntries.id,
  });
  if (after) conds.push(after);
  const select = (db: LogEntryContext["db"]) =>
    db
      .select()
      .from(logEntries)
      .where(and(...conds))
      // NULLS LAST as in log_entries_tenant_id_timestamp_id_idx: a bare DESC (NULLS FIRST) cannot
      // use that index and sorts every row of the tenant (a 1,000,000-entry tenant took ~1 s a page)
      .orderBy(
        sql`${logEntries.timestamp} desc nulls last`,
        sql`${logEntries.id} desc nulls last`,
      )
      .limit(limit + 1);
  const rows = byIndex
    ? await ctx.db.transaction(async (tx) => {
        await tx.execute(sql`set local enable_indexscan = off`);
        await tx.execute(sql`set local work_mem = '32MB'`);
        return select(tx);
      })
    : await select(ctx.db);
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
// `fromEntries` counts every bar from the entries (tests compare both ways).
export async function countLogEntriesOverTime(
  ctx: LogEntryContext & { now: Date },
  q: LogEntryFilters,
  opts: { fromEntries?: boolean } = {},
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
  const barOf = (at: SQL) =>
    sql<number>`floor((extract(epoch from ${at}) * 1000 - ${first}::float8) / ${barMs}::float8)::int`;
  // every match in [from, to) counted from the entries: the index finds them; work_mem keeps its
  // bitmap exact (at 4 MB a search matching 1,000,000 entries made it lossy, and each entry's
  // text was searched again)
  const countEntries = (from: Date, to: Date) =>
    ctx.db.transaction(async (tx) => {
      if (q.q || q.address) await tx.execute(sql`set local work_mem = '64MB'`);
      return tx
        .select({
          bar: barOf(sql`${logEntries.timestamp}`),
          count: sql<number>`count(*)::int`,
        })
        .from(logEntries)
        .where(
          and(
            ...filterConditions(ctx.tenantId, {
              ...q,
              since: from.toISOString(),
              until: to.toISOString(),
            }),
          ),
        )
        .groupBy(sql`1`);
    });
  // Without a search, bars of whole hours add up the hourly counts (log_entry_hours, kept by
  // triggers): a month of a million entries is a few thousand rows. The partial hours at the
  // range's edges are counted from the entries.
  const h1 = Math.ceil(since.getTime() / HOUR_MS) * HOUR_MS;
  const h2 = Math.floor(until.getTime() / HOUR_MS) * HOUR_MS;
  const byHour =
    !opts.fromEntries && !q.q && !q.address && barMs % HOUR_MS === 0 && h1 < h2;
  const rows = byHour
    ? [
        ...(h1 > since.getTime()
          ? await countEntries(since, new Date(h1))
          : []),
        ...(await hourlyCounts(ctx, q, new Date(h1), new Date(h2), barOf)),
        ...(until.getTime() > h2
          ? await countEntries(new Date(h2), until)
          : []),
      ]
    : await countEntries(since, until);
  const counts = new Map<number, number>();
  for (const r of rows)
    counts.set(
      Number(r.bar),
      (counts.get(Number(r.bar)) ?? 0) + Number(r.count),
    );

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

const HOUR_MS = 3600_000;

// The whole hours [from, to) of the chart from log_entry_hours, with the filters it keeps.
function hourlyCounts(
  ctx: LogEntryContext,
  q: LogEntryFilters,
  from: Date,
  to: Date,
  barOf: (at: SQL) => SQL<number>,
) {
  const h = logEntryHours;
  const conds: SQL[] = [
    eq(h.tenantId, ctx.tenantId),
    gte(h.hour, from),
    lt(h.hour, to),
  ];
  if (q.vmId) conds.push(eq(h.vmId, q.vmId));
  if (q.projectId) conds.push(eq(h.projectId, q.projectId));
  if (q.severity) conds.push(eq(h.severity, q.severity));
  if (q.incidentId) conds.push(eq(h.incidentId, q.incidentId));
  if (q.mechanism) conds.push(eq(h.mechanism, q.mechanism));
  if (q.consumed) conds.push(eq(h.consumed, q.consumed));
  return ctx.db
    .select({
      bar: barOf(sql`${h.hour}`),
      count: sql<number>`sum(${h.n})::int`,
    })
    .from(h)
    .where(and(...conds))
    .groupBy(sql`1`);
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
