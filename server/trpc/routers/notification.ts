import type { TenantContext } from "@/server/context";
import {
  getNotificationSettings,
  NotificationSettingsInput,
  updateNotificationSettings,
} from "@/server/notify/notification-settings";
import {
  ListWebhookDeliveriesInput,
  listWebhookDeliveries,
  RecoverWebhookMessagesInput,
  recoverWebhookMessages,
  RetryWebhookDeliveryInput,
  retryWebhookDelivery,
} from "@/server/notify/webhook-deliveries";
import {
  CreateWebhookEndpointInput,
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  getWebhookEndpoint,
  ListWebhookEndpointsInput,
  listWebhookEndpoints,
  rotateWebhookSecret,
  sendTestWebhook,
  UpdateWebhookEndpointInput,
  updateWebhookEndpoint,
  WebhookEndpointIdInput,
} from "@/server/notify/webhook-endpoints";
import { memberProcedure, router, tenantProcedure } from "../init";

const svc = (ctx: TenantContext): TenantContext => ({
  db: ctx.db,
  tenantId: ctx.tenantId,
  actor: ctx.actor,
  now: ctx.now,
});

// Notification settings, webhook endpoints and their delivery log: thin adapters over the same
// services as the REST API. A viewer reads; members and owners change (spec.md, "Users").
export const notificationRouter = router({
  settings: tenantProcedure.query(({ ctx }) =>
    getNotificationSettings(svc(ctx)),
  ),
  updateSettings: memberProcedure
    .input(NotificationSettingsInput)
    .mutation(({ ctx, input }) => updateNotificationSettings(svc(ctx), input)),

  listWebhooks: tenantProcedure
    .input(ListWebhookEndpointsInput)
    .query(({ ctx, input }) => listWebhookEndpoints(svc(ctx), input)),
  webhookById: tenantProcedure
    .input(WebhookEndpointIdInput)
    .query(({ ctx, input }) => getWebhookEndpoint(svc(ctx), input)),
  createWebhook: memberProcedure
    .input(CreateWebhookEndpointInput)
    .mutation(({ ctx, input }) => createWebhookEndpoint(svc(ctx), input)),
  updateWebhook: memberProcedure
    .input(UpdateWebhookEndpointInput)
    .mutation(({ ctx, input }) => updateWebhookEndpoint(svc(ctx), input)),
  deleteWebhook: memberProcedure
    .input(WebhookEndpointIdInput)
    .mutation(async ({ ctx, input }) => {
      await deleteWebhookEndpoint(svc(ctx), input);
      return { id: input.id, deleted: true as const };
    }),
  sendTest: memberProcedure
    .input(WebhookEndpointIdInput)
    .mutation(({ ctx, input }) => sendTestWebhook(svc(ctx), input)),
  rotateSecret: memberProcedure
    .input(WebhookEndpointIdInput)
    .mutation(({ ctx, input }) => rotateWebhookSecret(svc(ctx), input)),

  listDeliveries: tenantProcedure
    .input(ListWebhookDeliveriesInput)
    .query(({ ctx, input }) => listWebhookDeliveries(svc(ctx), input)),
  retryDelivery: memberProcedure
    .input(RetryWebhookDeliveryInput)
    .mutation(({ ctx, input }) => retryWebhookDelivery(svc(ctx), input)),
  recover: memberProcedure
    .input(RecoverWebhookMessagesInput)
    .mutation(({ ctx, input }) => recoverWebhookMessages(svc(ctx), input)),
});
