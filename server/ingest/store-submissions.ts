import { sql } from "drizzle-orm";
import { bulkInsert } from "@/db/bulk";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { memoryErrorEvents } from "@/db/schema";
import { correlateEvent } from "@/server/correlation/correlate-event";
import { afterIncidentChanges } from "@/server/incidents/after-change";
import type { CorrelatedEvent } from "@/server/incidents/incident-change";
import { recordCorrelatedEvents } from "@/server/incidents/record-events";
import { getPolicy } from "@/server/policy/thresholds";
import type { ParsedEvent } from "./event-schema";
import { loadVmContext } from "./load-vm-context";
import { normalizeEvent } from "./normalize-event";

// One event of a request, validated, with the ids it will be stored under.
export type Candidate = {
  index: number;
  raw: unknown;
  parsed: ParsedEvent;
  storedId: string;
  logEntryId: string;
};

// The valid events of one request (one host), received at receivedAt.
export type Submission = {
  hostId: string;
  receivedAt: Date;
  candidates: Candidate[];
};

// Stores the events of several requests (each from one host) in one transaction: correlation,
// the events (a duplicate (host, id) is skipped by the unique index, also between two requests
// of the group), log entries, incidents, then policy and notifications. Returns, per request,
// the ids of the events it stored.
export async function storeSubmissions(
  db: Db,
  subs: Submission[],
): Promise<Set<string>[]> {
  const at = new Date(Math.max(...subs.map((s) => s.receivedAt.getTime())));
  return db.transaction(async (tx) => {
    const all = subs.flatMap((s) => s.candidates.map((c) => ({ sub: s, c })));
    const vmIds = [...new Set(all.map(({ c }) => c.parsed.data.vmId))];
    // the policy is read with the VMs (one round trip to the embedded database's thread)
    const [{ vmsById, placementsByVm }, policy] = await Promise.all([
      loadVmContext(tx, vmIds),
      getPolicy(tx),
    ]);
    const rows = all.map(({ sub, c }) => {
      const vm = vmsById.get(c.parsed.data.vmId) ?? null;
      const correlation = correlateEvent({
        vm,
        placements: placementsByVm.get(c.parsed.data.vmId) ?? [],
        hostId: sub.hostId,
        time: c.parsed.time,
      });
      return {
        sub,
        c,
        vm,
        correlation,
        norm: normalizeEvent(c.parsed.data, vm?.name ?? c.parsed.data.vmId),
      };
    });
    const inserted = await rawRows<{ id: string }>(
      tx,
      bulkInsert(
        memoryErrorEvents,
        rows.map(({ sub, c, correlation: corr, norm: n }) => ({
          id: c.storedId,
          hostId: sub.hostId,
          sourceEventId: c.parsed.id,
          vmId: c.parsed.data.vmId,
          vmIncarnation: corr.kind === "correlated" ? corr.incarnation : null,
          tenantId: corr.kind === "correlated" ? corr.tenantId : null,
          projectId: corr.kind === "correlated" ? corr.projectId : null,
          uncorrelatedReason: corr.kind === "uncorrelated" ? corr.reason : null,
          eventTime: c.parsed.time,
          receivedAt: sub.receivedAt,
          severity: n.severity,
          consumed: n.consumed,
          guestKernel: n.guestKernel,
          pageKey: n.pageKey,
          mechanism: c.parsed.data.mechanism,
          logEntryId: corr.kind === "correlated" ? c.logEntryId : null,
          raw: c.raw as Record<string, unknown>,
        })),
        sql`on conflict (host_id, source_event_id) do nothing returning id`,
      ),
    );
    const stored = new Set(inserted.map((r) => r.id));
    const correlated: CorrelatedEvent[] = [];
    for (const { sub, c, vm, correlation: corr, norm } of rows) {
      if (!stored.has(c.storedId) || corr.kind !== "correlated") continue;
      correlated.push({
        eventId: c.storedId,
        logEntryId: c.logEntryId,
        vm: vm!,
        tenantId: corr.tenantId,
        projectId: corr.projectId,
        hostId: sub.hostId,
        eventTime: c.parsed.time,
        receivedAt: sub.receivedAt,
        data: c.parsed.data,
        norm,
      });
    }
    const changes = await recordCorrelatedEvents(tx, correlated, at);
    await afterIncidentChanges(
      tx,
      changes,
      subs.map((s) => s.hostId),
      at,
      policy,
    );
    return subs.map(
      (s) =>
        new Set(
          s.candidates
            .filter((c) => stored.has(c.storedId))
            .map((c) => c.storedId),
        ),
    );
  });
}
