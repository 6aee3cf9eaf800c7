// POST /api/v1/events – receive VMM memory-error events (CloudEvents, single or batch)
import { z } from "zod";
import { ApiError, ValidationError } from "@/server/errors";
import { eventFromBinaryMode, isBinaryMode } from "@/server/ingest/binary-mode";
import { CloudEvent, MemoryErrorData } from "@/server/ingest/event-schema";
import { ingestEvents } from "@/server/ingest/ingest-events";
import { metrics } from "@/server/metrics";
import { RateLimiter } from "@/server/core/rate-limit";
import { defineRoute, mediaTypeOf, readBodyText } from "../router";
import type { RawBodyDef } from "../router";
import { ErrorBody, ErrorDetailOut } from "../schemas";

export const MAX_BATCH_EVENTS = 1000;

// Per host and process: 20,000 events of burst, 5,000 events/s sustained.
export const ingestRateLimiter = new RateLimiter({
  capacity: 20_000,
  refillPerSecond: 5_000,
});

const IngestAnswerSchema = z
  .object({
    accepted: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.number().int(),
    results: z.array(
      z
        .object({
          id: z
            .string()
            .nullable()
            .describe("the event's id as sent (null when it had none)"),
          status: z.enum(["accepted", "duplicate", "rejected"]),
          error: z
            .object({
              code: z.string(),
              message: z.string(),
              details: z.array(ErrorDetailOut).optional(),
            })
            .optional()
            .describe("why a rejected event was rejected"),
        })
        .meta({ id: "IngestResult" }),
    ),
  })
  .meta({
    id: "IngestAnswer",
    description: "Per-event results in input order",
  });

const err = (d: string) => ({ description: d, schema: ErrorBody });

const CloudEventDoc = CloudEvent.meta({
  id: "CloudEvent",
  description: "A memory-error event, CloudEvents 1.0 structured mode",
});
const EventDataDoc = MemoryErrorData.meta({
  id: "MemoryErrorData",
  description:
    "The event's data: in binary content mode the whole body, its attributes being ce-* headers",
});

// CloudEvents HTTP binary content mode (the SDKs' default): the attributes travel as headers.
const CE_HEADERS: [string, string][] = [
  ["specversion", '"1.0"'],
  ["id", "unique per host; the idempotency key"],
  ["source", "/hosts/{hostId}"],
  ["type", '"vmm.memory_error.v1"'],
  ["time", "RFC 3339, any offset; at most 5 minutes in the future"],
  ["subject", "the VM id; must equal data.vmId"],
];

// The media types POST /api/v1/events reads, for the document.
const ingestContent: RawBodyDef = {
  content: (schemaOf) => {
    const one = schemaOf(CloudEventDoc);
    const batch = { type: "array", maxItems: MAX_BATCH_EVENTS, items: one };
    return {
      "application/cloudevents+json": { schema: one },
      "application/cloudevents-batch+json": { schema: batch },
      // with ce-* headers (binary content mode) the body is one event's data
      "application/json": {
        schema: { oneOf: [one, batch, schemaOf(EventDataDoc)] },
      },
    };
  },
  headers: [
    {
      name: "Content-Encoding",
      description:
        "gzip on any form; the 1 MiB limit applies to the decompressed body (413 beyond it)",
      schema: { type: "string", enum: ["gzip", "x-gzip", "identity"] },
    },
    ...CE_HEADERS.map(([attr, what]) => ({
      name: `ce-${attr}`,
      description: `Binary content mode (Content-Type: application/json, the body is data): the ${attr} attribute, ${what}. Required in that mode; percent-encoded where not printable ASCII`,
      schema: { type: "string" },
    })),
  ],
};

export const ingestRoutes = [
  defineRoute({
    method: "POST",
    path: "/api/v1/events",
    operationId: "ingestEvents",
    auth: ["host"],
    tag: "ingestion",
    summary:
      "Report memory-error events (CloudEvents 1.0: structured single or batch of ≤ 1,000, or binary mode; ≤ 1 MiB, gzip allowed)",
    rawBody: ingestContent,
    // whole requests refused, by reason (per-event rejections are counted by ingestEvents)
    onError: (e) => metrics.ingestRequestsRejected.inc({ reason: e.code }),
    responses: {
      200: {
        description: "Per-event results in input order",
        schema: IngestAnswerSchema,
      },
      400: err(
        "Unparseable body or broken gzip, not CloudEvents, wrong form for the media type, or (single or binary mode) an invalid event",
      ),
      401: err("Missing or unknown host token"),
      403: err("Single mode: an event of another host"),
      413: err("Over 1 MiB (decompressed) or over 1,000 events"),
      415: err("Other media type, or a Content-Encoding other than gzip"),
      429: err("Host over its rate (Retry-After)"),
    },
    handler: async ({ req, ctx, principal }) => {
      if (principal?.kind !== "host")
        throw new ApiError("forbidden", "Events need a host token");
      const mt = mediaTypeOf(req);
      const kinds: Record<string, "single" | "batch" | "either"> = {
        "application/cloudevents+json": "single",
        "application/cloudevents-batch+json": "batch",
        "application/json": "either",
      };
      const kind = mt ? kinds[mt] : undefined;
      if (!kind) {
        throw new ApiError(
          "unsupported_media_type",
          "Send application/cloudevents+json, application/cloudevents-batch+json or application/json",
        );
      }
      // The structured media types win over ce-* headers (CloudEvents HTTP binding, 3.1)
      const binary = kind === "either" && isBinaryMode(req.headers);
      const text = await readBodyText(req);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ValidationError(
          binary
            ? "Body is not valid JSON (binary mode: the body is the event's data)"
            : "Body is not valid JSON",
        );
      }
      let mode: "single" | "batch";
      if (binary) {
        body = eventFromBinaryMode(req.headers, body);
        mode = "single";
      } else if (Array.isArray(body)) {
        if (kind === "single")
          throw new ValidationError(
            "application/cloudevents+json takes one event; send a batch as application/cloudevents-batch+json",
          );
        mode = "batch";
      } else if (body !== null && typeof body === "object") {
        if (kind === "batch")
          throw new ValidationError(
            "application/cloudevents-batch+json takes a JSON array of events",
          );
        mode = "single";
      } else {
        throw new ValidationError(
          "Body must be a CloudEvent object or an array of them",
        );
      }
      const events = mode === "batch" ? (body as unknown[]) : [body];
      if (events.length > MAX_BATCH_EVENTS) {
        throw new ApiError(
          "payload_too_large",
          `A batch holds at most ${MAX_BATCH_EVENTS} events (got ${events.length})`,
        );
      }
      ingestRateLimiter.take(
        principal.hostId,
        Math.max(1, events.length),
        "events from this host",
      );
      const answer = await ingestEvents(ctx, {
        hostId: principal.hostId,
        events,
        mode,
        binary,
      });
      return { status: 200, body: answer };
    },
  }),
];
