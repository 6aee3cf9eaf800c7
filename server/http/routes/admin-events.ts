// Operator API: uncorrelated events.
import { listUncorrelatedEvents, UncorrelatedQuery } from "@/server/ingest/uncorrelated";
import { defineRoute } from "../router";
import { ErrorBody } from "../schemas";

const err = (d: string) => ({ description: d, schema: ErrorBody });

export const adminEventRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/v1/admin/events",
    operationId: "listUncorrelatedEvents",
    auth: ["operator"],
    tag: "operator",
    summary: "Uncorrelated events (unknown_vm, host_mismatch) as received, newest first",
    query: UncorrelatedQuery,
    responses: {
      200: { description: "{ data: [{ id, receivedAt, hostId, vmId, reason, event }], nextCursor }" },
      400: err("Invalid query"),
      401: err("Missing or unknown token"),
      403: err("Not an operator token"),
    },
    handler: async ({ db, query }) => ({ status: 200, body: await listUncorrelatedEvents(db, query) }),
  }),
];
