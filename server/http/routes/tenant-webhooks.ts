// Tenant REST API (tenant API key): webhook subscriptions, their deliveries, notification settings.
import { z } from "zod";
import { tenantContext } from "@/server/context";
import {
  NotificationSettings,
  NotificationSettingsInput,
  getNotificationSettings,
  updateNotificationSettings,
} from "@/server/notify/notification-settings";
import {
  listWebhookDeliveries,
  RecoverBody,
  recoverWebhookMessages,
  retryWebhookDelivery,
  WebhookDeliveriesQuery,
} from "@/server/notify/webhook-deliveries";
import {
  CreateWebhookEndpointInput,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookEndpoints,
  ListWebhookEndpointsInput,
  rotateWebhookSecret,
  sendTestWebhook,
  updateWebhookEndpoint,
  WebhookEndpointPatch,
} from "@/server/notify/webhook-endpoints";
import {
  MAX_WEBHOOK_ENDPOINTS,
  WEBHOOK_ACTION_LIMITS,
} from "@/server/notify/tenant-caps";
import { defineRoute } from "../router";
import { listOf, Timestamp } from "../schemas";
import {
  deliveryOut,
  errorResponse,
  subscriptionFields,
  tenantAuth,
  testRefusals,
} from "./subscription-schemas";

const tenant = tenantAuth;
const err = errorResponse;
const notFound = { 404: err("No such webhook endpoint of this tenant") };

const IdParams = z.object({ id: z.string().max(64) });

const EndpointOut = z
  .object({
    id: z.string().describe("whe_…"),
    url: z.string(),
    ...subscriptionFields,
  })
  .meta({
    id: "Webhook",
    description:
      "A webhook subscription (the signing secret only on create and rotate-secret)",
  });
const EndpointWithSecretOut = EndpointOut.extend({
  secret: z
    .string()
    .describe("whsec_…; answered only here and on rotate-secret"),
}).meta({
  id: "WebhookWithSecret",
});
const DeliveryOut = deliveryOut(
  "WebhookDelivery",
  "msg_…, the webhook-id header",
);
const NotificationSettingsOut = NotificationSettings.meta({
  id: "NotificationSettings",
});

export const tenantWebhookRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/v1/webhooks",
    operationId: "listWebhooks",
    auth: tenant,
    tag: "webhooks",
    summary: "Webhook subscriptions, newest first",
    query: ListWebhookEndpointsInput,
    responses: {
      200: {
        description: "{ data, nextCursor }",
        schema: listOf(EndpointOut, "WebhookList"),
      },
    },
    handler: async ({ ctx, query }) => ({
      status: 200,
      body: await listWebhookEndpoints(tenantContext(ctx), query),
    }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/webhooks",
    operationId: "createWebhook",
    auth: tenant,
    tag: "webhooks",
    summary: "Subscribe an endpoint; the signing secret is answered only now",
    body: CreateWebhookEndpointInput,
    responses: {
      201: {
        description: "The subscription with its secret",
        schema: EndpointWithSecretOut,
      },
      409: err(`The tenant has ${MAX_WEBHOOK_ENDPOINTS} endpoints already`),
    },
    handler: async ({ ctx, body }) => ({
      status: 201,
      body: await createWebhookEndpoint(tenantContext(ctx), body),
    }),
  }),
  defineRoute({
    method: "PATCH",
    path: "/api/v1/webhooks/{id}",
    operationId: "updateWebhook",
    auth: tenant,
    tag: "webhooks",
    summary: 'Change a subscription; { status: "enabled" } re-enables it',
    params: IdParams,
    body: WebhookEndpointPatch,
    responses: {
      200: { description: "The subscription", schema: EndpointOut },
      ...notFound,
    },
    handler: async ({ ctx, params, body }) => ({
      status: 200,
      body: await updateWebhookEndpoint(tenantContext(ctx), {
        ...body,
        id: params.id,
      }),
    }),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/v1/webhooks/{id}",
    operationId: "deleteWebhook",
    auth: tenant,
    tag: "webhooks",
    summary: "Remove a subscription",
    params: IdParams,
    responses: { 204: { description: "Removed" }, ...notFound },
    handler: async ({ ctx, params }) => {
      await deleteWebhookEndpoint(tenantContext(ctx), { id: params.id });
      return new Response(null, { status: 204 });
    },
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/webhooks/{id}/test",
    operationId: "testWebhook",
    auth: tenant,
    tag: "webhooks",
    summary: "Send a webhook.test message",
    params: IdParams,
    responses: {
      202: {
        description: "Queued",
        schema: z.object({ messageId: z.string() }),
      },
      ...testRefusals("endpoint"),
      ...notFound,
    },
    handler: async ({ ctx, params }) => ({
      status: 202,
      body: await sendTestWebhook(tenantContext(ctx), { id: params.id }),
    }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/webhooks/{id}/rotate-secret",
    operationId: "rotateWebhookSecret",
    auth: tenant,
    tag: "webhooks",
    summary: "Make a new signing secret; the old one still signs for 24 h",
    params: IdParams,
    responses: {
      200: {
        description: "The subscription with its new secret",
        schema: EndpointWithSecretOut.extend({
          previousSecretExpiresAt: Timestamp,
        }).meta({ id: "WebhookWithNewSecret" }),
      },
      ...notFound,
    },
    handler: async ({ ctx, params }) => ({
      status: 200,
      body: await rotateWebhookSecret(tenantContext(ctx), { id: params.id }),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/webhooks/{id}/deliveries",
    operationId: "listWebhookDeliveries",
    auth: tenant,
    tag: "webhooks",
    summary: "Deliveries to the endpoint with every attempt, newest first",
    params: IdParams,
    query: WebhookDeliveriesQuery,
    responses: {
      200: {
        description: "{ data, nextCursor }",
        schema: listOf(DeliveryOut, "WebhookDeliveryList"),
      },
      ...notFound,
    },
    handler: async ({ ctx, params, query }) => ({
      status: 200,
      body: await listWebhookDeliveries(tenantContext(ctx), {
        ...query,
        endpointId: params.id,
      }),
    }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/webhooks/{id}/deliveries/{deliveryId}/retry",
    operationId: "retryWebhookDelivery",
    auth: tenant,
    tag: "webhooks",
    summary: "Replay a delivery: the same webhook-id, signed afresh",
    params: z.object({
      id: z.string().max(64),
      deliveryId: z.string().max(64),
    }),
    responses: {
      202: {
        description: "Queued",
        schema: z.object({ deliveryId: z.string(), messageId: z.string() }),
      },
      409: err("The endpoint is disabled"),
      429: err(
        `More than ${WEBHOOK_ACTION_LIMITS.retry.capacity} retries a minute for this tenant (Retry-After)`,
      ),
      404: err("No such delivery of this endpoint"),
    },
    handler: async ({ ctx, params }) => ({
      status: 202,
      body: await retryWebhookDelivery(tenantContext(ctx), {
        endpointId: params.id,
        deliveryId: params.deliveryId,
      }),
    }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/webhooks/{id}/recover",
    operationId: "recoverWebhookMessages",
    auth: tenant,
    tag: "webhooks",
    summary: "Resend every failed message since a time (at most 14 days back)",
    params: IdParams,
    body: RecoverBody,
    responses: {
      202: {
        description: "Queued",
        schema: z.object({ count: z.number().int() }),
      },
      409: err("The endpoint is disabled"),
      429: err(
        `More than ${WEBHOOK_ACTION_LIMITS.recover.capacity} recoveries an hour for this tenant (Retry-After)`,
      ),
      ...notFound,
    },
    handler: async ({ ctx, params, body }) => ({
      status: 202,
      body: await recoverWebhookMessages(tenantContext(ctx), {
        endpointId: params.id,
        since: body.since,
      }),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/notification-settings",
    operationId: "getNotificationSettings",
    auth: tenant,
    tag: "notifications",
    summary: "Email recipients, minimum severity and digest",
    responses: {
      200: { description: "Settings", schema: NotificationSettingsOut },
    },
    handler: async ({ ctx }) => {
      const { emails, minSeverity, digest } = await getNotificationSettings(
        tenantContext(ctx),
      );
      return { status: 200, body: { emails, minSeverity, digest } };
    },
  }),
  defineRoute({
    method: "PUT",
    path: "/api/v1/notification-settings",
    operationId: "putNotificationSettings",
    auth: tenant,
    tag: "notifications",
    summary: "Set the notification settings (omitted fields keep their value)",
    body: NotificationSettingsInput,
    responses: {
      200: { description: "Settings", schema: NotificationSettingsOut },
    },
    handler: async ({ ctx, body }) => ({
      status: 200,
      body: await updateNotificationSettings(tenantContext(ctx), body),
    }),
  }),
];
