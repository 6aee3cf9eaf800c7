// Feed tokens (tenant API key) and the feeds they read (feed token): Atom of incidents, iCalendar of evacuations.
import { z } from "zod";
import { getEvacuationsFeed } from "@/server/feeds/evacuations-feed";
import {
  createFeedToken,
  FeedTokenId,
  listFeedTokens,
  MAX_FEED_TOKENS,
  revokeFeedToken,
} from "@/server/feeds/feed-tokens";
import {
  getIncidentsFeed,
  INCIDENTS_FEED_SIZE,
} from "@/server/feeds/incidents-feed";
import { tenantContext } from "@/server/context";
import type { ServiceContext, TenantContext } from "@/server/context";
import { RateLimiter } from "@/server/core/rate-limit";
import { ApiError } from "@/server/errors";
import type { Principal } from "../principal";
import { defineRoute } from "../router";
import { ErrorBody, listOf, Timestamp } from "../schemas";

const tenant = ["tenant"] as ["tenant"];
const feed = ["feed"] as ["feed"];
const err = (d: string) => ({ description: d, schema: ErrorBody });

// Readers poll every few minutes; a token fetching more than this is broken or shared too widely.
export const FEED_RATE = { capacity: 30, refillPerSecond: 1 / 10 };
export const feedRateLimiter = new RateLimiter(FEED_RATE);

// The feeds answer only to a feed token, which names its tenant.
function feedContext(
  ctx: ServiceContext,
  principal: Principal | null,
): TenantContext {
  if (principal?.kind !== "feed")
    throw new ApiError("forbidden", "This endpoint needs a feed token");
  feedRateLimiter.take(
    principal.feedTokenId,
    1,
    "feed requests for this token",
  );
  return tenantContext(ctx);
}

const FeedTokenOut = z
  .object({
    id: z.string().describe("fdt_…"),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable().describe(
      "when a feed was last read with it (updated at most once a minute)",
    ),
  })
  .meta({ id: "FeedToken", description: "never the token" });
const NewFeedTokenOut = z
  .object({
    id: z.string().describe("fdt_…"),
    token: z
      .string()
      .describe("pwf_…; answered only now, stored hashed; put it in ?token="),
    createdAt: Timestamp,
  })
  .meta({ id: "NewFeedToken" });

const feedAnswers = (what: string, contentType: string) => ({
  200: { description: what, contentType },
  429: err(
    `More than ${FEED_RATE.capacity} requests in a burst with this token (Retry-After)`,
  ),
});

const text = (body: string, contentType: string) =>
  new Response(body, {
    status: 200,
    headers: { "content-type": contentType, "cache-control": "no-store" },
  });

export const tenantFeedRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/v1/feed-tokens",
    operationId: "listFeedTokens",
    auth: tenant,
    tag: "feeds",
    summary: "Feed tokens that still work, oldest first (never the token)",
    responses: {
      200: {
        description: "{ data, nextCursor: null }",
        schema: listOf(FeedTokenOut, "FeedTokenList"),
      },
    },
    handler: async ({ ctx }) => ({
      status: 200,
      body: await listFeedTokens(tenantContext(ctx)),
    }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/feed-tokens",
    operationId: "createFeedToken",
    auth: tenant,
    tag: "feeds",
    summary: "Make a feed token; the token is answered only now",
    responses: {
      201: { description: "The token", schema: NewFeedTokenOut },
      409: err(`The tenant has ${MAX_FEED_TOKENS} feed tokens already`),
    },
    handler: async ({ ctx }) => ({
      status: 201,
      body: await createFeedToken(tenantContext(ctx)),
    }),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/v1/feed-tokens/{feedTokenId}",
    operationId: "revokeFeedToken",
    auth: tenant,
    tag: "feeds",
    summary: "Revoke a feed token; feeds read with it answer 401 at once",
    params: z.object({ feedTokenId: FeedTokenId }),
    responses: {
      204: { description: "Revoked" },
      404: err("No such feed token of this tenant (or revoked already)"),
    },
    handler: async ({ ctx, params }) => {
      await revokeFeedToken(tenantContext(ctx), { id: params.feedTokenId });
      return new Response(null, { status: 204 });
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/feeds/incidents.atom",
    operationId: "getIncidentsFeed",
    auth: feed,
    tag: "feeds",
    summary: `Atom 1.0 feed of the newest ${INCIDENTS_FEED_SIZE} incidents`,
    description:
      "One entry per incident (id a urn:uuid that never changes, updated when the incident changes, " +
      "title its VM and what happened, a link to the console). The feed token goes in ?token=.",
    responses: feedAnswers("Atom 1.0 (RFC 4287)", "application/atom+xml"),
    handler: async ({ ctx, principal }) =>
      text(
        await getIncidentsFeed(feedContext(ctx, principal)),
        "application/atom+xml; charset=utf-8",
      ),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/feeds/evacuations.ics",
    operationId: "getEvacuationsFeed",
    auth: feed,
    tag: "feeds",
    summary: "iCalendar feed of the VM restarts on healthy hosts",
    description:
      "One VEVENT per evacuation: UID its id, DTSTART its scheduledFor, SEQUENCE raised at each " +
      "reschedule, STATUS:CANCELLED when cancelled. The feed token goes in ?token=.",
    responses: feedAnswers("iCalendar (RFC 5545)", "text/calendar"),
    handler: async ({ ctx, principal }) =>
      text(
        await getEvacuationsFeed(feedContext(ctx, principal)),
        "text/calendar; charset=utf-8",
      ),
  }),
];
