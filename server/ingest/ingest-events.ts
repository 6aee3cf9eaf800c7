
import { sql } from "drizzle-orm";
import { bulkInsert } from "@/db/bulk";
import type { Db } from "@/db/client";
import { rawRows } from "@/db/client";
import { newId } from "@/db/ids";
import { memoryErrorEvents } from "@/db/schema";
import { correlateEvent } from "@/server/correlation/correlate-event";
import type { Correlation } from "@/server/correlation/correlate-event";
import { ForbiddenError, ValidationError } from "@/server/errors";
import { afterIncidentChanges } from "@/server/incidents/after-change";
import { recordCorrelatedEvents } from "@/server/incidents/record-events";
import type { CorrelatedEvent } from "@/server/incidents/record-events";
import { jsonLimitProblem } from "@/server/http/json-limits";
import { inc } from "@/server/metrics";
import { eventIdOf, parseCloudEvent } from "./event-schema";
import type { ParsedEvent } from "./event-schema";
import { loadVmContext } from "./load-vm-context";
import { normalizeEvent } from "./normalize-event";

export type EventResult = {
  id: string | null;
  status: "accepted" | "duplicate" | "rejected";
  error?: { code: string; message: string; details?: { path: string; message: string }[] };
};

export type IngestAnswer = { accepted: number; duplicates: number; rejected: number; results: EventResult[] };

type Candidate = { index: number; parsed: ParsedEvent; storedId: string; logEntryId: string; correlation?: Correlation };

function countRejects(results: EventResult[]) {
  for (const r of results) {
    if (r.status === "rejected") inc("poisonwatch_ingest_rejected_total", "Events rejected, by reason", { reason: r.error?.code ?? "unknown" });
    else inc("poisonwatch_ingest_events_total", "Events received, by outcome", { status: r.status });
  }
}

// Validates every event on its own, stores the good ones with their log entries and incident
// changes in one transaction, and answers only after it commits.
export async function ingestEvents(
  db: Db,
  input: { hostId: string; events: unknown[]; mode: "single" | "batch"; receivedAt: Date },
): Promise<IngestAnswer> {
  const results: EventResult[] = input.events.map(() => ({ id: null, status: "rejected" }));
  const candidates: Candidate[] = [];
  const firstIndexOfId = new Map<string, number>();

  input.events.forEach((raw, index) => {
    const id = eventIdOf(raw);
    results[index]!.id = id;
    const limit = jsonLimitProblem(raw);
    const parsed: ReturnType<typeof parseCloudEvent> = limit
      ? { ok: false, message: `Invalid event: ${limit.path || "(event)"}: ${limit.message}`, details: [limit] }
      : parseCloudEvent(raw, input.receivedAt);
    if (!parsed.ok) {
      if (input.mode === "single") throw new ValidationError(parsed.message, parsed.details);
      results[index]!.error = { code: "invalid_request", message: parsed.message, details: parsed.details };
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
    candidates.push({ index, parsed: parsed.event, storedId: newId("evt"), logEntryId: newId("log") });
  });

  if (candidates.length) {
    await db.transaction(async (tx) => {
      const vmIds = [...new Set(candidates.map((c) => c.parsed.data.vmId))];
      const { vmsById, placementsByVm } = await loadVmContext(tx, vmIds);
      for (const c of candidates) {
        c.correlation = correlateEvent({
          vm: vmsById.get(c.parsed.data.vmId) ?? null,
          placements: placementsByVm.get(c.parsed.data.vmId) ?? [],
          hostId: input.hostId,
          time: c.parsed.time,
        });
      }
      const normalized = new Map(
        candidates.map((c) => [c.index, normalizeEvent(c.parsed.data, vmsById.get(c.parsed.data.vmId)?.name ?? c.parsed.data.vmId)]),
      );
      const inserted = await rawRows<{ id: string }>(
        tx,
        bulkInsert(
          memoryErrorEvents,
          candidates.map((c) => {
            const n = normalized.get(c.index)!;
            const corr = c.correlation!;
            return {
              id: c.storedId,
              hostId: input.hostId,
              sourceEventId: c.parsed.id,
              vmId: c.parsed.data.vmId,
              tenantId: corr.kind === "correlated" ? corr.tenantId : null,
              projectId: corr.kind === "correlated" ? corr.projectId : null,
              uncorrelatedReason: corr.kind === "uncorrelated" ? corr.reason : null,
              eventTime: c.parsed.time,
              receivedAt: input.receivedAt,
              severity: n.severity,
              consumed: n.consumed,
              guestKernel: n.guestKernel,
              pageKey: n.pageKey,
              mechanism: c.parsed.data.mechanism,
              logEntryId: corr.kind === "correlated" ? c.logEntryId : null,
              raw: input.events[c.index] as Record<string, unknown>,
            };
          }),
          sql`on conflict (host_id, source_event_id) do nothing returning id`,
        ),
      );
      const stored = new Set(inserted.map((r) => r.id));
      const correlated: CorrelatedEvent[] = [];
      for (const c of candidates) {
        if (!stored.has(c.storedId)) {
          results[c.index] = { id: c.parsed.id, status: "duplicate" };
          continue;
        }
        results[c.index] = { id: c.parsed.id, status: "accepted" };
        const corr = c.correlation!;
        if (corr.kind !== "correlated") continue;
        correlated.push({
          eventId: c.storedId,
          logEntryId: c.logEntryId,
          vm: vmsById.get(c.parsed.data.vmId)!,
          tenantId: corr.tenantId,
          projectId: corr.projectId,
          hostId: input.hostId,
          eventTime: c.parsed.time,
          receivedAt: input.receivedAt,
          data: c.parsed.data,
          norm: normalized.get(c.index)!,
        });
      }
      const changes = await recordCorrelatedEvents(tx, correlated, input.receivedAt);
      await afterIncidentChanges(tx, changes, [input.hostId], input.receivedAt);
    });
  }
  countRejects(results);
  return {
    accepted: results.filter((r) => r.status === "accepted").length,
    duplicates: results.filter((r) => r.status === "duplicate").length,
    rejected: results.filter((r) => r.status === "rejected").length,
    results,
  };
}

