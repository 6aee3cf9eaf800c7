import type { Db } from "@/db/client";
import type { ServiceContext } from "@/server/context";
import { dbKindOf } from "@/db/client";
import { newId } from "@/db/ids";
import { ForbiddenError, ValidationError } from "@/server/errors";
import { jsonLimitProblem } from "@/server/core/json-limits";
import { dbTask } from "@/server/jobs/db-task";
import { metrics } from "@/server/metrics";
import { binaryModeDetails } from "./binary-mode";
import { eventIdOf, invalid, parseCloudEvent } from "./event-schema";
import { GroupCommitter } from "./group-commit";
import type { Candidate, Submission } from "./store-submissions";
import { storeSubmissions } from "./store-submissions";

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

function countRejects(results: EventResult[]) {
  for (const r of results) {
    if (r.status === "rejected")
      metrics.ingestEventsRejected.inc({ reason: r.error?.code ?? "unknown" });
    else metrics.ingestEvents.inc({ status: r.status });
  }
}

// A group stops growing at this many events (one request of up to 1,000 events is written alone).
const MAX_GROUP_EVENTS = 1000;

// One group committer per database (see group-commit.ts): concurrent requests share a transaction.
const committers = new WeakMap<Db, GroupCommitter<Submission, Set<string>>>();

function committerFor(db: Db): GroupCommitter<Submission, Set<string>> {
  let c = committers.get(db);
  if (!c) {
    const write = async (items: Submission[]) => {
      const end = metrics.ingestTransactionSeconds.startTimer();
      // in the embedded database's own thread, when it has one, in one message
      const stored = await dbTask(
        db,
        "storeSubmissions",
        storeSubmissions,
        items,
      );
      end();
      metrics.ingestGroupRequests.observe(items.length);
      return stored;
    };
    c = new GroupCommitter<Submission, Set<string>>(write, {
      // PGlite has one connection: a second group in flight would only wait for it (also in its
      // own thread: measured, two in flight there made groups smaller and no faster)
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
