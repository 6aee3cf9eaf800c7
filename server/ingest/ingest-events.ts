import { sql } from "drizzle-orm";
import { bulkInsert } from "@/db/bulk";
import type { Db } from "@/db/client";
import type { ServiceContext } from "@/server/context";
import { dbKindOf, rawRows } from "@/db/client";
import { newId } from "@/db/ids";
import { memoryErrorEvents } from "@/db/schema";
import { correlateEvent } from "@/server/correlation/correlate-event";
import { ForbiddenError, ValidationError } from "@/server/errors";
import { afterIncidentChanges } from "@/server/incidents/after-change";
import { recordCorrelatedEvents } from "@/server/incidents/record-events";
import type { CorrelatedEvent } from "@/server/incidents/incident-change";
import { jsonLimitProblem } from "@/server/core/json-limits";
import { metrics } from "@/server/metrics";
import { getPolicy } from "@/server/policy/thresholds";
import { binaryModeDetails } from "./binary-mode";
import { eventIdOf, invalid, parseCloudEvent } from "./event-schema";
import { GroupCommitter } from "./group-commit";
import type { ParsedEvent } from "./event-schema";
import { loadVmContext } from "./load-vm-context";
import { normalizeEvent } from "./normalize-event";

export type EventResult = {
  id: string | null;
  status: "accepted" | "duplicate" | "rejected";
  error?: {
    code: string;
    message: string;
    details?: { path: string; message: string }[];
  };
};

export type IngestAnswer = {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: EventResult[];
};

type Candidate = {
  index: number;
  raw: unknown;
  parsed: ParsedEvent;
  storedId: string;
  logEntryId: string;
};

function countRejects(results: EventResult[]) {
  for (const r of results) {
    if (r.status === "rejected")
      metrics.ingestEventsRejected.inc({ reason: r.error?.code ?? "unknown" });
    else metrics.ingestEvents.inc({ status: r.status });
  }
}

type Submission = { hostId: string; receivedAt: Date; candidates: Candidate[] };

// A group stops growing at this many events (one request of up to 1,000 events is written alone).
const MAX_GROUP_EVENTS = 1000;

// One group committer per database (see group-commit.ts): concurrent requests share a transaction.
const committers = new WeakMap<Db, GroupCommitter<Submission, Set<string>>>();

function committerFor(db: Db): GroupCommitter<Submission, Set<string>> {
  let c = committers.get(db);
  if (!c) {
    const write = async (items: Submission[]) => {
      const end = metrics.ingestTransactionSeconds.startTimer();
      const stored = await storeSubmissions(db, items);
      end();
      metrics.ingestGroupRequests.observe(items.length);
      return stored;
    };
    c = new GroupCommitter<Submission, Set<string>>(write, {
      // PGlite has one connection: a second group in flight would only wait for it
      maxInFlight: dbKindOf(db) === "pglite" ? 1 : 2,
      maxWeight: MAX_GROUP_EVENTS,
      weight: (s) => s.candidates.length,
    });
    committers.set(db, c);
  }
  return c;
}

// Validates every event on its own, then has the good ones stored with their log entries and
// incident changes in one transaction (shared with concurrent requests), and answers only after it
// commits.
// The events were received at ctx.now.
export async function ingestEvents(
  ctx: ServiceContext,
  input: {
    hostId: string;
    events: unknown[];
    mode: "single" | "batch";
    binary?: boolean;
  },
): Promise<IngestAnswer> {
  const receivedAt = ctx.now;
  const results: EventResult[] = input.events.map(() => ({
    id: null,
    status: "rejected",
  }));
  const candidates: Candidate[] = [];
  const firstIndexOfId = new Map<string, number>();

  input.events.forEach((raw, index) => {
    const id = eventIdOf(raw);
    results[index]!.id = id;
    const limit = jsonLimitProblem(raw);
    let parsed: ReturnType<typeof parseCloudEvent> = limit
      ? {
          ok: false,
          message: `Invalid event: ${limit.path || "(event)"}: ${limit.message}`,
          details: [limit],
        }
      : parseCloudEvent(raw, receivedAt);
    if (!parsed.ok && input.binary)
      parsed = invalid(binaryModeDetails(raw, parsed.details));
    if (!parsed.ok) {
      if (input.mode === "single")
        throw new ValidationError(parsed.message, parsed.details);
      results[index]!.error = {
        code: "invalid_request",
        message: parsed.message,
        details: parsed.details,
      };
      return;
    }
    if (parsed.event.data.hostId !== input.hostId) {
      const message = `This token belongs to host ${input.hostId}; it cannot report events of host ${parsed.event.data.hostId}`;
      if (input.mode === "single") throw new ForbiddenError(message);
      results[index]!.error = { code: "forbidden", message };
      return;
    }
    const seen = firstIndexOfId.get(parsed.event.id);
    if (seen !== undefined) {
      results[index] = { id: parsed.event.id, status: "duplicate" };
      return;
    }
    firstIndexOfId.set(parsed.event.id, index);
    candidates.push({
      index,
      raw,
      parsed: parsed.event,
      storedId: newId("evt"),
      logEntryId: newId("log"),
    });
  });

  if (candidates.length) {
    const stored = await committerFor(ctx.db).submit({
      hostId: input.hostId,
      receivedAt,
      candidates,
    });
    for (const c of candidates) {
      results[c.index] = {
        id: c.parsed.id,
        status: stored.has(c.storedId) ? "accepted" : "duplicate",
      };
    }
  }
  countRejects(results);
  return {
    accepted: results.filter((r) => r.status === "accepted").length,
    duplicates: results.filter((r) => r.status === "duplicate").length,
    rejected: results.filter((r) => r.status === "rejected").length,
    results,
  };
}

// Stores the events of several requests (each from one host) in one transaction: correlation,
// the events (a duplicate (host, id) is skipped by the unique index, also between two requests
// of the group), log entries, incidents, then policy and notifications. Returns, per request,
// the ids of the events it stored.
async function storeSubmissions(
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
