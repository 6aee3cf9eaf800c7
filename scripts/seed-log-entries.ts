// Bulk log entries for load tests: N critical log entries (and their incidents) for one tenant's
// VMs, spread over the last 30 days, made inside the database with set-based INSERT … SELECT
// generate_series (no row travels through Node). Used by `npm run bench:console`.
//   node --require ./scripts/server-only-shim.cjs --import tsx scripts/seed-log-entries.ts [count] [tenantId]
//   (DATA_DIR or DATABASE_URL as for the app; the app must not be running on a PGlite DATA_DIR)
import { sql } from "drizzle-orm";
import type { SQL } from "drizzle-orm";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";

export const ENTRIES_PER_INCIDENT = 1000;
const BATCH = 100_000;

export type SeedResult = {
  entries: number;
  incidents: number;
  heaviestIncidentId: string;
  seconds: number;
};

// Entry i belongs to incident floor(i / 1000) (a 43-minute burst on one VM); one entry in ten is a
// WARNING; timestamps run back from `at` by 2.592 s per entry, so 1,000,000 entries cover 30 days.
export async function seedLogEntries(
  db: Db,
  opts: {
    tenantId: string;
    count: number;
    at: Date;
    log?: (s: string) => void;
    /** false: keep the indexes during the load (the old way, to measure against) */
    deferIndexes?: boolean;
  },
): Promise<SeedResult> {
  const t0 = performance.now();
  const vms = await rawRows<{ id: string }>(
    db,
    sql`select id from vms where tenant_id = ${opts.tenantId} order by id`,
  );
  if (!vms.length) throw new Error(`tenant ${opts.tenantId} has no VMs`);
  const spanMs = 30 * 86400_000;
  const step = spanMs / Math.max(opts.count, 1);
  const at = opts.at.toISOString();
  // numbers go in as literals: as parameters they would be typed integer and overflow
  const stepSecs = sql.raw((step / 1000).toFixed(6));
  const incSecs = sql.raw(((step * ENTRIES_PER_INCIDENT) / 1000).toFixed(6));
  const incidents = Math.ceil(opts.count / ENTRIES_PER_INCIDENT);
  const vmsOf = sql`(select row_number() over (order by id) - 1 as k, id, incarnation, project_id, name, zone from vms where tenant_id = ${opts.tenantId})`;
  const nVms = vms.length;
  await db.execute(sql`
    insert into incidents (id, tenant_id, project_id, vm_id, vm_incarnation, vm_name, zone, status, severity, opened_at, updated_at,
      resolved_at, last_error_at, error_count, distinct_pages, event_playbook, playbook_key, playbook_version,
      guest_kernel, actions, arch, guest_mode, pending_changes, version)
    select 'inc_bench' || lpad(g::text, 7, '0'), ${opts.tenantId}, v.project_id, v.id, v.incarnation, v.name, v.zone, 'resolved', 'CRITICAL',
      ${at}::timestamptz - make_interval(secs => (g + 1)::float8 * ${incSecs}),
      ${at}::timestamptz - make_interval(secs => g::float8 * ${incSecs}),
      ${at}::timestamptz - make_interval(secs => g::float8 * ${incSecs} - 86400),
      ${at}::timestamptz - make_interval(secs => g::float8 * ${incSecs}),
      ${ENTRIES_PER_INCIDENT}, 12, 'repeated-memory-errors', 'repeated-memory-errors', 1,
      false, '["sea_injected","page_unmapped"]'::jsonb, 'arm64', 'user', '[]'::jsonb, 1
    from generate_series(0, ${incidents - 1}::int) g
    join ${vmsOf} v on v.k = g % ${nVms}
    on conflict (id) do nothing`);
  await db.execute(sql`
    insert into incident_pages (incident_id, page_key, first_seen_at, count)
    select 'inc_bench' || lpad(g::text, 7, '0'), '0x' || lpad(to_hex(4294967296 + p * 4096), 16, '0'), ${at}::timestamptz, 1
    from generate_series(0, ${incidents - 1}::int) g, generate_series(0, 11) p
    on conflict do nothing`);
  await db.execute(sql`
    insert into incident_timeline (id, incident_id, tenant_id, at, kind, summary)
    select 'tle_bench' || lpad(g::text, 7, '0') || '_' || k, 'inc_bench' || lpad(g::text, 7, '0'), ${opts.tenantId},
      ${at}::timestamptz - make_interval(secs => (g + 1)::float8 * ${incSecs} - k * 60),
      case when k = 0 then 'opened' else 'error' end,
      case when k = 0 then 'Incident opened: an uncorrectable memory error was consumed' else 'New poisoned page: consumed error' end
    from generate_series(0, ${incidents - 1}::int) g, generate_series(0, 11) k
    on conflict (id) do nothing`);
  // Every secondary index of log_entries is dropped for the bulk load and built once after it:
  // kept, each of the 1,000,000 rows updates six b-trees and the GIN search index row by row (the
  // GIN one costs the most: ~15 words a row, each a posting-list insert), which made the load take
  // ~10 min on PGlite. The definitions are read back from the catalog, so they stay the schema's.
  const indexes =
    opts.deferIndexes === false
      ? []
      : await rawRows<{ name: string; def: string }>(
          db,
          sql`select indexname as name, indexdef as def from pg_indexes
              where schemaname = current_schema() and tablename = 'log_entries'
                and indexname <> 'log_entries_pkey' order by indexname`,
        );
  for (const i of indexes)
    await db.execute(sql.raw(`drop index if exists "${i.name}"`));
  try {
    await insertLogEntries(db, opts, { t0, stepSecs, vmsOf, nVms, at });
  } finally {
    if (indexes.length) {
      const t1 = performance.now();
      const took: string[] = [];
      await db.transaction(async (tx) => {
        await tx.execute(sql`set local maintenance_work_mem = '256MB'`);
        for (const i of indexes) {
          const t2 = performance.now();
          await tx.execute(sql.raw(i.def));
          took.push(
            `${i.name} ${((performance.now() - t2) / 1000).toFixed(1)} s`,
          );
        }
      });
      opts.log?.(
        `  ${indexes.length} indexes built after the load in ${((performance.now() - t1) / 1000).toFixed(1)} s: ${took.join(", ")}`,
      );
    }
  }
  await db.execute(sql`analyze`);
  return {
    entries: opts.count,
    incidents,
    heaviestIncidentId: `inc_bench${String(Math.floor(incidents / 2)).padStart(7, "0")}`,
    seconds: (performance.now() - t0) / 1000,
  };
}

async function insertLogEntries(
  db: Db,
  opts: { tenantId: string; count: number; log?: (s: string) => void },
  c: { t0: number; stepSecs: SQL; vmsOf: SQL; nVms: number; at: string },
) {
  const { t0, stepSecs, vmsOf, nVms, at } = c;
  for (let start = 0; start < opts.count; start += BATCH) {
    const end = Math.min(opts.count, start + BATCH) - 1;
    await db.execute(sql`
      insert into log_entries (id, tenant_id, project_id, vm_id, event_id, incident_id, timestamp, receive_timestamp,
        severity, playbook, zone, json_payload, vcpu)
      select 'log_bench' || lpad(i::text, 9, '0'), ${opts.tenantId}, v.project_id, v.id, 'evt_bench' || lpad(i::text, 9, '0'),
        'inc_bench' || lpad((i / ${ENTRIES_PER_INCIDENT})::text, 7, '0'),
        ${at}::timestamptz - make_interval(secs => i::float8 * ${stepSecs}),
        ${at}::timestamptz - make_interval(secs => i::float8 * ${stepSecs} - 2),
        case when i % 10 = 0 then 'WARNING' else 'CRITICAL' end, 'repeated-memory-errors', v.zone,
        jsonb_build_object(
          'message', 'An uncorrectable memory error was consumed by a user process in VM ' || v.name || '; the guest kernel stopped the process and the page was unmapped.',
          'arch', 'arm64', 'vcpu', i % 8, 'guestMode', 'user', 'actions', '["sea_injected","page_unmapped"]'::jsonb,
          'eventId', 'evt_bench' || lpad(i::text, 9, '0'), 'mechanism', 'kvm_exit_arm_sea', 'consumed', true,
          'gpa', '0x' || lpad(to_hex(4294967296 + (i % 4096) * 4096), 16, '0'), 'gva', '0x0000ffff9a2b3c40', 'pageSize', 4096,
          'esr', '{"value":"0x0000000092000010","ec":"0x24","ecName":"DABT (lower EL)","il":32,"fsc":"0x10","fscName":"synchronous external abort","ea":0,"fnv":0,"s1ptw":null,"wnr":0,"cm":0,"set":null,"errorState":null,"ids":null,"notReported":["isv","sas","sse","srt","sf","ar","vncr","s1ptw","iss2","set"]}'::jsonb),
        i % 8
      from generate_series(${start}::int, ${end}::int) i
      join ${vmsOf} v on v.k = (i / ${ENTRIES_PER_INCIDENT}) % ${nVms}
      on conflict (id) do nothing`);
    opts.log?.(
      `  ${end + 1} log entries (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
  }
}

// CLI
if (import.meta.url === `file://${process.argv[1]}`) {
  const { getDbHandle } = await import("@/db");
  const count = Number(process.argv[2] ?? 1_000_000);
  const tenantId = process.argv[3] ?? "acme";
  const h = await getDbHandle();
  const r = await seedLogEntries(h.db, {
    tenantId,
    count,
    at: new Date(),
    log: (s) => console.log(s),
  });
  console.log(
    `seeded ${r.entries} log entries in ${r.incidents} incidents for ${tenantId} in ${r.seconds.toFixed(1)} s`,
  );
  await h.close();
}
