// Tenant REST API (tenant API key): chat and paging channels (Slack, Teams, PagerDuty).
import { z } from "zod";
import { tenantContext } from "@/server/context";
import {
  ChannelPatch,
  CHANNEL_KINDS,
  CreateChannelInput,
  createChannel,
  deleteChannel,
  listChannelDeliveries,
  listChannels,
  ListChannelsInput,
  sendTestChannelMessage,
  updateChannel,
} from "@/server/notify/channel-subscriptions";
import { MAX_WEBHOOK_ENDPOINTS } from "@/server/notify/tenant-caps";
import { WebhookDeliveriesQuery } from "@/server/notify/webhook-deliveries";
import { defineRoute } from "../router";
import { listOf } from "../schemas";
import {
  deliveryOut,
  errorResponse,
  subscriptionFields,
  tenantAuth,
  testRefusals,
} from "./subscription-schemas";

const tenant = tenantAuth;
const err = errorResponse;
const notFound = { 404: err("No such channel of this tenant") };

const IdParams = z.object({ channelId: z.string().max(64) });

const ChannelOut = z
  .object({
    id: z.string().describe("chn_…"),
    kind: z.enum(CHANNEL_KINDS),
    url: z
      .string()
      .optional()
      .describe(
        "slack, teams: the incoming-webhook URL, masked after creation (it carries a secret)",
      ),
    routingKey: z
      .string()
      .optional()
      .describe(
        "pagerduty: the Events API v2 routing key, masked after creation",
      ),
    ...subscriptionFields,
  })
  .meta({
    id: "Channel",
    description:
      "A chat or paging channel; its URL or routing key is answered whole only on creation",
  });
const DeliveryOut = deliveryOut("ChannelDelivery", "msg_…");

export const tenantChannelRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/v1/channels",
    operationId: "listChannels",
    auth: tenant,
    tag: "channels",
    summary: "Chat and paging channels, newest first",
    query: ListChannelsInput,
    responses: {
      200: {
        description: "{ data, nextCursor }",
        schema: listOf(ChannelOut, "ChannelList"),
      },
    },
    handler: async ({ ctx, query }) => ({
      status: 200,
      body: await listChannels(tenantContext(ctx), query),
    }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/channels",
    operationId: "createChannel",
    auth: tenant,
    tag: "channels",
    summary:
      "Add a Slack, Teams or PagerDuty channel; its URL or routing key is answered whole only now",
    body: CreateChannelInput,
    responses: {
      201: { description: "The channel", schema: ChannelOut },
      409: err(`The tenant has ${MAX_WEBHOOK_ENDPOINTS} channels already`),
    },
    handler: async ({ ctx, body }) => ({
      status: 201,
      body: await createChannel(tenantContext(ctx), body),
    }),
  }),
  defineRoute({
    method: "PATCH",
    path: "/api/v1/channels/{channelId}",
    operationId: "updateChannel",
    auth: tenant,
    tag: "channels",
    summary: 'Change a channel; { status: "enabled" } re-enables it',
    params: IdParams,
    body: ChannelPatch,
    responses: {
      200: { description: "The channel", schema: ChannelOut },
      ...notFound,
    },
    handler: async ({ ctx, params, body }) => ({
      status: 200,
      body: await updateChannel(tenantContext(ctx), {
        ...body,
        id: params.channelId,
      }),
    }),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/v1/channels/{channelId}",
    operationId: "deleteChannel",
    auth: tenant,
    tag: "channels",
    summary: "Remove a channel",
    params: IdParams,
    responses: { 204: { description: "Removed" }, ...notFound },
    handler: async ({ ctx, params }) => {
      await deleteChannel(tenantContext(ctx), { id: params.channelId });
      return new Response(null, { status: 204 });
    },
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/channels/{channelId}/test",
    operationId: "testChannel",
    auth: tenant,
    tag: "channels",
    summary:
      "Send a test message rendered for the channel; its delivery shows the platform's answer",
    params: IdParams,
    responses: {
      202: {
        description: "Queued",
        schema: z.object({ messageId: z.string(), deliveryId: z.string() }),
      },
      ...testRefusals("channel"),
      ...notFound,
    },
    handler: async ({ ctx, params }) => ({
      status: 202,
      body: await sendTestChannelMessage(tenantContext(ctx), {
        id: params.channelId,
      }),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/channels/{channelId}/deliveries",
    operationId: "listChannelDeliveries",
    auth: tenant,
    tag: "channels",
    summary: "Deliveries to the channel with every attempt, newest first",
    params: IdParams,
    query: WebhookDeliveriesQuery,
    responses: {
      200: {
        description: "{ data, nextCursor }",
        schema: listOf(DeliveryOut, "ChannelDeliveryList"),
      },
      ...notFound,
    },
    handler: async ({ ctx, params, query }) => ({
      status: 200,
      body: await listChannelDeliveries(tenantContext(ctx), {
        ...query,
        id: params.channelId,
      }),
    }),
  }),
];
