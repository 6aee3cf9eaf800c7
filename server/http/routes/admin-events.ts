// Operator API: uncorrelated events.
import {
  listUncorrelatedEvents,
  UncorrelatedQuery,
} from "@/server/ingest/uncorrelated";
import { defineRoute } from "../router";
import { listOf, UncorrelatedEventOut } from "../schemas";

export const adminEventRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/v1/admin/events",
    operationId: "listUncorrelatedEvents",
    auth: ["operator"],
    tag: "operator",
    summary:
      "Uncorrelated events (unknown_vm, host_mismatch) as received, newest first",
    query: UncorrelatedQuery,
    responses: {
      200: {
        description: "Uncorrelated events, newest first",
        schema: listOf(UncorrelatedEventOut, "UncorrelatedEventList"),
      },
    },
    handler: async ({ ctx, query }) => ({
      status: 200,
      body: await listUncorrelatedEvents(ctx, query),
    }),
  }),
];
