import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { SQL } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import type { ServiceContext } from "@/server/context";
import { rawRows } from "@/db/client";
import { evacuations, hosts, vms } from "@/db/schema";
import { OPERATOR_ID_PATTERN } from "@/db/ids";
import { NotFoundError, ValidationError } from "@/server/errors";
import { decodeCursor, ListQuery } from "@/server/core/cursor";
import { MAX_FUTURE_SKEW_MS } from "@/server/ingest/event-schema";
import type { HostState, HostSummary, VmSummary } from "./policy";
import {
  HOST_STATES,
  hostPressure,
  hostStateOf,
  windowStartOf,
} from "./policy";
import type { Policy } from "./thresholds";
import { getPolicy } from "./thresholds";

// Set-based versions of summarizeVm / summarizeHost (policy.ts). Only correlated events count:
// an uncorrelated one is either not yet bound to a VM (it counts once late binding correlates it)
// or came from a host the VM was not on, which cannot be attributed. A VM's counts are those of its
// incarnation in the inventory: a deleted VM with the same id, and its evacuations, count not.

type EvacuationRow = typeof evacuations.$inferSelect;

const ms = (col: SQL) => sql`floor(extract(epoch from ${col}) * 1000)::float8`;
const dateOf = (v: unknown) =>
  v === null || v === undefined ? null : new Date(Number(v));
const list = (ids: string[]) =>
  sql.join(
    ids.map((v) => sql`${v}`),
    sql`, `,
  );

// Fleet-wide scans also bound received_at, which is indexed: ingestion refuses events more than
// MAX_FUTURE_SKEW_MS ahead of their receipt, so eventTime >= since implies this bound.
function receivedBound(since: Date): SQL {
  return sql`e.received_at >= ${new Date(since.getTime() - MAX_FUTURE_SKEW_MS).toISOString()}::timestamptz`;
}

// vmIds null = every VM with events in the window.
export async function vmSummaries(
  db: Db,
  vmIds: string[] | null,
  at: Date,
  policy: Pick<Policy, "windowSeconds">,
) {
  const out = new Map<string, VmSummary>();
  if (vmIds && !vmIds.length) return out;
  const since = windowStartOf(at, policy);
  const vmFilter = vmIds
    ? sql`e.vm_id in (${list(vmIds)})`
    : receivedBound(since);
  const resetFilter = vmIds ? sql`and x.vm_id in (${list(vmIds)})` : sql``;
  const rows = await rawRows<{
    vm_id: string;
    pages: number;
    gk: boolean;
    last_new: number | null;
  }>(
    db,
    sql`with resets as (
          select x.vm_incarnation, max(x.completed_at) as reset from evacuations x
          where x.status = 'completed' ${resetFilter} group by x.vm_incarnation
        ), pages as (
          select e.vm_id, coalesce(e.page_key, 'unlocated:' || e.id) as page, min(e.received_at) as first_received,
                 max(case when e.guest_kernel then e.received_at end) as gk_last
          from memory_error_events e join vms v on v.id = e.vm_id and v.incarnation = e.vm_incarnation
               left join resets r on r.vm_incarnation = e.vm_incarnation
          where ${vmFilter} and e.tenant_id is not null
            and e.event_time >= ${since.toISOString()}::timestamptz
            and (r.reset is null or e.event_time >= r.reset)
          group by 1, 2
        )
        select vm_id, count(*)::int as pages, bool_or(gk_last is not null) as gk,
               ${ms(sql`greatest(max(first_received), max(gk_last))`)} as last_new
        from pages group by vm_id`,
  );
  for (const r of rows) {
    out.set(r.vm_id, {
      distinctPages: Number(r.pages),
      guestKernel: r.gk === true,
      lastNewEvidenceAt: dateOf(r.last_new),
    });
  }
  return out;
}

// hostIds null = every host with events in the window.
export async function hostSummaries(
  db: Db,
  hostIds: string[] | null,
  at: Date,
  policy: Pick<Policy, "windowSeconds">,
) {
  const out = new Map<string, HostSummary>();
  if (hostIds && !hostIds.length) return out;
  const since = windowStartOf(at, policy);
  const hostFilter = hostIds
    ? sql`e.host_id in (${list(hostIds)})`
    : receivedBound(since);
  const rows = await rawRows<{
    host_id: string;
    pages: number;
    vms: string;
    last_new: number | null;
  }>(
    db,
    sql`with pairs as (
          select e.host_id, e.vm_id, coalesce(e.page_key, 'unlocated:' || e.id) as page, min(e.received_at) as first_received
          from memory_error_events e
          where ${hostFilter} and e.tenant_id is not null and e.event_time >= ${since.toISOString()}::timestamptz
          group by 1, 2, 3
        )
        select host_id, count(*)::int as pages, string_agg(distinct vm_id, ',' order by vm_id) as vms,
               ${ms(sql`max(first_received)`)} as last_new
        from pairs group by host_id`,
  );
  for (const r of rows) {
    out.set(r.host_id, {
      distinctPages: Number(r.pages),
      // operator ids cannot contain a comma (OPERATOR_ID_PATTERN)
      affectedVmIds: r.vms ? r.vms.split(",") : [],
      lastNewEvidenceAt: dateOf(r.last_new),
    });
  }
  return out;
}

// The page counts of vmSummaries and hostSummaries read from the rollup (page_rollup, kept by
// triggers on memory_error_events) instead of the events: a page is in the window when its newest
// event is, so a storm of any length on one page is one row here. lastNewEvidenceAt, which needs
// the events, is left to vmSummaries / hostSummaries for the few decisions that read it (after an
// operator's cancel). The policy-parity test holds them to the same answers. A page reported
// through two hosts (the VM moved) is one of the VM's pages and one page of each host.
export type PageCounts = { distinctPages: number; guestKernel: boolean };

export async function vmPageCounts(
  db: Db,
  vmIds: string[],
  at: Date,
  policy: Pick<Policy, "windowSeconds">,
): Promise<Map<string, PageCounts>> {
  const out = new Map<string, PageCounts>();
  if (!vmIds.length) return out;
  const since = sql`${windowStartOf(at, policy).toISOString()}::timestamptz`;
  const rows = await rawRows<{ vm_id: string; pages: number; gk: boolean }>(
    db,
    sql`with resets as (
          select x.vm_incarnation, max(x.completed_at) as reset from evacuations x
          where x.status = 'completed' and x.vm_id in (${list(vmIds)}) group by x.vm_incarnation
        ), bounds as (
          select v.id, v.incarnation, greatest(${since}, coalesce(rs.reset, ${since})) as b
          from vms v left join resets rs on rs.vm_incarnation = v.incarnation
          where v.id in (${list(vmIds)})
        )
        select b.id as vm_id, count(distinct r.page)::int as pages,
               coalesce(bool_or(r.guest_kernel_max_event_time >= b.b), false) as gk
        from bounds b join page_rollup r on r.vm_incarnation = b.incarnation and r.max_event_time >= b.b
        group by b.id`,
  );
  for (const r of rows)
    out.set(r.vm_id, {
      distinctPages: Number(r.pages),
      guestKernel: r.gk === true,
    });
  return out;
}

export async function hostPageCounts(
  db: Db,
  hostIds: string[],
  at: Date,
  policy: Pick<Policy, "windowSeconds">,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!hostIds.length) return out;
  const since = windowStartOf(at, policy).toISOString();
  // a host's pages are (VM, page) pairs, whichever incarnation of the VM reported them
  const rows = await rawRows<{ host_id: string; pages: number }>(
    db,
    sql`select host_id, count(*)::int as pages from (
          select distinct host_id, vm_id, page from page_rollup
          where host_id in (${list(hostIds)}) and max_event_time >= ${since}::timestamptz
        ) p group by host_id`,
  );
  for (const r of rows) out.set(r.host_id, Number(r.pages));
  return out;
}

// The newest evacuation of each VM (of its incarnation in the inventory), whatever its status.
export async function latestEvacuations(
  db: Db,
  vmIds: string[],
): Promise<Map<string, EvacuationRow>> {
  const out = new Map<string, EvacuationRow>();
  if (!vmIds.length) return out;
  const current = db
    .select({ incarnation: vms.incarnation })
    .from(vms)
    .where(inArray(vms.id, vmIds));
  const rows = await db
    .selectDistinctOn([evacuations.vmId])
    .from(evacuations)
    .where(
      and(
        inArray(evacuations.vmId, vmIds),
        inArray(evacuations.vmIncarnation, current),
      ),
    )
    .orderBy(
      evacuations.vmId,
      desc(evacuations.requestedAt),
      desc(evacuations.id),
    );
  for (const r of rows) out.set(r.vmId, r);
  return out;
}

export async function getHostHealth(
  ctx: ServiceContext,
  input: { hostId: string },
) {
  const { db, now: at } = ctx;
  const { hostId } = input;
  const [host] = await db
    .select({ id: hosts.id })
    .from(hosts)
    .where(eq(hosts.id, hostId));
  if (!host) throw new NotFoundError(`No host ${hostId}`);
  const policy = await getPolicy(db);
  const s = (await hostSummaries(db, [hostId], at, policy)).get(hostId);
  const distinctPages = s?.distinctPages ?? 0;
  return {
    hostId,
    state: hostStateOf(distinctPages, policy),
    distinctPages,
    affectedVmIds: s?.affectedVmIds ?? [],
    windowSeconds: policy.windowSeconds,
  };
}
export type HostHealth = Awaited<ReturnType<typeof getHostHealth>>;

export const HostListQuery = ListQuery.extend({
  state: z.enum(HOST_STATES).optional(),
});

type HostListRow = {
  id: string;
  zone: string;
  pages: number;
  running: number;
  evacuating: number;
  last_error: number | null;
  state: HostState;
};

function hostRowView(r: HostListRow, policy: Policy) {
  return {
    id: r.id,
    zone: r.zone,
    state: r.state,
    distinctPages: Number(r.pages),
    pressure: hostPressure(Number(r.pages), policy),
    runningVms: Number(r.running),
    activeEvacuations: Number(r.evacuating),
    lastErrorAt:
      r.last_error === null
        ? null
        : new Date(Number(r.last_error)).toISOString(),
  };
}
export type HostListItem = ReturnType<typeof hostRowView>;

// The fleet: every host with its state now, by id (or by pressure, for the console's trend list).
export async function listHostHealth(
  ctx: ServiceContext,
  q: {
    limit: number;
    cursor?: string;
    state?: HostState;
    order?: "id" | "pressure";
    minPages?: number;
  },
  policyIn?: Policy,
) {
  const { db, now: at } = ctx;
  const policy = policyIn ?? (await getPolicy(db));
  const since = windowStartOf(at, policy);
  const order = q.order ?? "id";
  const c =
    order === "id" ? (decodeCursor(q.cursor, 1) as [string] | null) : null;
  if (c && !OPERATOR_ID_PATTERN.test(c[0]))
    throw new ValidationError("Invalid cursor", [
      { path: "cursor", message: "not a cursor this API made" },
    ]);
  const conds: SQL[] = [sql`true`];
  if (q.state) conds.push(sql`state = ${q.state}`);
  if (c) conds.push(sql`id > ${c[0]}`);
  if (q.minPages !== undefined) conds.push(sql`pages >= ${q.minPages}`);
  const rows = await rawRows<HostListRow>(
    db,
    sql`with pairs as (
          select e.host_id, e.vm_id, coalesce(e.page_key, 'unlocated:' || e.id) as page, max(e.event_time) as last_error
          from memory_error_events e
          where ${receivedBound(since)} and e.tenant_id is not null and e.event_time >= ${since.toISOString()}::timestamptz
          group by 1, 2, 3
        ), agg as (
          select host_id, count(*)::int as pages, max(last_error) as last_error from pairs group by host_id
        ), running as (
          select host_id, count(*)::int as n from vms where host_id is not null group by host_id
        ), active as (
          select host_id, count(*)::int as n from evacuations where status in ('scheduled', 'in_progress') and host_id is not null group by host_id
        ), fleet as (
          select h.id, h.zone, coalesce(a.pages, 0) as pages, coalesce(r.n, 0) as running, coalesce(x.n, 0) as evacuating,
                 ${ms(sql`a.last_error`)} as last_error,
                 case when coalesce(a.pages, 0) >= ${policy.hostEvacuatePages} then 'evacuate'
                      when coalesce(a.pages, 0) >= ${policy.hostDegradedPages} then 'degraded'
                      else 'healthy' end as state
          from hosts h left join agg a on a.host_id = h.id left join running r on r.host_id = h.id
               left join active x on x.host_id = h.id
        )
        select * from fleet where ${sql.join(conds, sql` and `)}
        order by ${order === "id" ? sql`id` : sql`pages desc, id`}
        limit ${q.limit + 1}`,
  );
  const hasMore = rows.length > q.limit;
  const data = (hasMore ? rows.slice(0, q.limit) : rows).map((r) =>
    hostRowView(r, policy),
  );
  const last = data[data.length - 1];
  const nextCursor =
    order === "id" && hasMore && last
      ? Buffer.from(JSON.stringify([last.id])).toString("base64url")
      : null;
  return { data, nextCursor };
}

export async function countHostsByState(
  db: Db,
  at: Date,
  policyIn?: Policy,
): Promise<Record<HostState, number>> {
  const policy = policyIn ?? (await getPolicy(db));
  const out: Record<HostState, number> = {
    healthy: 0,
    degraded: 0,
    evacuate: 0,
  };
  const summaries = await hostSummaries(db, null, at, policy);
  const [{ n }] = (await rawRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from hosts`,
  )) as [{ n: number }];
  let counted = 0;
  for (const s of summaries.values()) {
    out[hostStateOf(s.distinctPages, policy)] += 1;
    counted += 1;
  }
  out.healthy += Math.max(0, Number(n) - counted);
  return out;
}

// Running VMs on these hosts, for a host in `evacuate`.
export async function runningVmsOnHosts(db: Db, hostIds: string[]) {
  if (!hostIds.length) return [];
  return rawRows<{ id: string; host_id: string }>(
    db,
    sql`select id, host_id from vms where host_id in (${list(hostIds)}) order by id`,
  );
}

// The operator's host page: its health, the VMs on it with their own counts and evacuations, the
// evacuations requested from it, and its uncorrelated events.
export async function getHostDetail(
  ctx: ServiceContext,
  input: { hostId: string },
) {
  const { db, now: at } = ctx;
  const { hostId } = input;
  const [host] = await db.select().from(hosts).where(eq(hosts.id, hostId));
  if (!host) throw new NotFoundError(`No host ${hostId}`);
  const policy = await getPolicy(db);
  const health = await getHostHealth(ctx, { hostId });
  const onHost = await rawRows<{
    id: string;
    name: string;
    tenant_id: string;
    project_id: string;
  }>(
    db,
    sql`select id, name, tenant_id, project_id from vms where host_id = ${hostId} order by id limit 1000`,
  );
  const ids = [
    ...new Set([...onHost.map((v) => v.id), ...health.affectedVmIds]),
  ];
  const [sums, latest] = [
    await vmSummaries(db, ids, at, policy),
    await latestEvacuations(db, ids),
  ];
  const vmsView = onHost.map((v) => {
    const e = latest.get(v.id);
    return {
      id: v.id,
      name: v.name,
      tenantId: v.tenant_id,
      projectId: v.project_id,
      distinctPages: sums.get(v.id)?.distinctPages ?? 0,
      guestKernel: sums.get(v.id)?.guestKernel ?? false,
      evacuation: e
        ? {
            id: e.id,
            status: e.status,
            reason: e.reason,
            scheduledFor: e.scheduledFor.toISOString(),
          }
        : null,
    };
  });
  const evacs = await db
    .select()
    .from(evacuations)
    .where(eq(evacuations.hostId, hostId))
    .orderBy(desc(evacuations.requestedAt), desc(evacuations.id))
    .limit(50);
  return {
    host: {
      id: host.id,
      zone: host.zone,
      createdAt: host.createdAt.toISOString(),
    },
    health,
    policy,
    pressure: hostPressure(health.distinctPages, policy),
    vms: vmsView,
    evacuations: evacs.map((e) => ({
      id: e.id,
      vmId: e.vmId,
      status: e.status,
      reason: e.reason,
      distinctPages: e.distinctPages,
      requestedAt: e.requestedAt.toISOString(),
      scheduledFor: e.scheduledFor.toISOString(),
    })),
  };
}
