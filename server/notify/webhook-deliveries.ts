import { and, asc, desc, eq, gte, inArray } from "drizzle-orm";
import { z } from "zod";
import { webhookAttempts, webhookDeliveries } from "@/db/schema";
import { audit } from "@/server/audit";
import { now } from "@/server/clock";
import { NotFoundError, ValidationError } from "@/server/errors";
import { keysetAfter, ListQuery, page } from "@/server/core/cursor";
import { iso, Rfc3339 } from "@/server/core/time";
import type { TenantContext } from "@/server/context";
import type { SubscriptionFamily } from "./webhook-endpoints";
import {
  getSubscriptionRowForTenant,
  getWebhookEndpointRowForTenant,
  requireEnabled,
} from "./webhook-endpoints";
import { takeWebhookAction } from "./tenant-caps";
import { scheduleDeliveryJobs } from "./webhook-messages";

export const RECOVER_MAX_AGE_MS = 14 * 24 * 3600_000;

export const DeliveryStatus = z.enum(["pending", "succeeded", "failed"]);

export const WebhookDeliveriesQuery = ListQuery.extend({
  status: DeliveryStatus.optional(),
});
export const ListWebhookDeliveriesInput = WebhookDeliveriesQuery.extend({
  endpointId: z.string().max(64),
});
export type ListWebhookDeliveriesInput = z.input<
  typeof ListWebhookDeliveriesInput
>;

export const RetryWebhookDeliveryInput = z.object({
  endpointId: z.string().max(64),
  deliveryId: z.string().max(64),
});
export type RetryWebhookDeliveryInput = z.infer<
  typeof RetryWebhookDeliveryInput
>;

export const RecoverBody = z.strictObject({ since: Rfc3339 });
export const RecoverWebhookMessagesInput = RecoverBody.extend({
  endpointId: z.string().max(64),
});
export type RecoverWebhookMessagesInput = z.infer<
  typeof RecoverWebhookMessagesInput
>;

type AttemptRow = typeof webhookAttempts.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export function webhookDeliveryView(d: DeliveryRow, attempts: AttemptRow[]) {
  return {
    id: d.id,
    messageId: d.messageId,
    type: d.type,
    status: d.status,
    createdAt: iso(d.createdAt),
    nextAttemptAt: d.status === "pending" ? iso(d.nextAttemptAt) : null,
    attempts: attempts.map((a) => ({
      at: iso(a.at),
      statusCode: a.statusCode,
      ...(a.error ? { error: a.error } : {}),
      latencyMs: a.latencyMs,
      responseExcerpt: a.responseExcerpt,
    })),
  };
}
export type WebhookDeliveryView = ReturnType<typeof webhookDeliveryView>;

// Newest first, each with all its attempts (oldest first).
export async function listWebhookDeliveries(
  ctx: TenantContext,
  input: ListWebhookDeliveriesInput,
) {
  return listSubscriptionDeliveries(ctx, input, "webhook");
}

export async function listSubscriptionDeliveries(
  ctx: TenantContext,
  input: ListWebhookDeliveriesInput,
  family: SubscriptionFamily,
) {
  const q = ListWebhookDeliveriesInput.parse(input);
  const ep = await getSubscriptionRowForTenant(
    ctx.db,
    ctx.tenantId,
    q.endpointId,
    family,
  );
  const conds = [
    eq(webhookDeliveries.endpointId, ep.id),
    keysetAfter(q.cursor, {
      at: webhookDeliveries.createdAt,
      id: webhookDeliveries.id,
    }),
  ];
  if (q.status) conds.push(eq(webhookDeliveries.status, q.status));
  const rows = await ctx.db
    .select()
    .from(webhookDeliveries)
    .where(and(...conds))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(q.limit + 1);
  const p = page(rows, q.limit, (r) => [iso(r.createdAt), r.id]);
  const attempts = p.data.length
    ? await ctx.db
        .select()
        .from(webhookAttempts)
        .where(
          inArray(
            webhookAttempts.deliveryId,
            p.data.map((d) => d.id),
          ),
        )
        .orderBy(asc(webhookAttempts.at), asc(webhookAttempts.id))
    : [];
  const byDelivery = new Map<string, AttemptRow[]>();
  for (const a of attempts)
    byDelivery.set(a.deliveryId, [...(byDelivery.get(a.deliveryId) ?? []), a]);
  return {
    data: p.data.map((d) => webhookDeliveryView(d, byDelivery.get(d.id) ?? [])),
    nextCursor: p.nextCursor,
  };
}

// Replay: the same message (same webhook-id) goes again, signed afresh, with a new retry schedule.
export async function retryWebhookDelivery(
  ctx: TenantContext,
  input: RetryWebhookDeliveryInput,
) {
  return ctx.db.transaction(async (tx) => {
    const ep = await getWebhookEndpointRowForTenant(
      tx,
      ctx.tenantId,
      input.endpointId,
    );
    const [d] = await tx
      .select()
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.id, input.deliveryId),
          eq(webhookDeliveries.endpointId, ep.id),
        ),
      );
    if (!d)
      throw new NotFoundError(
        `No delivery ${input.deliveryId} of webhook endpoint ${ep.id}`,
      );
    requireEnabled(ep);
    takeWebhookAction(ctx.tenantId, "retry");
    const at = now();
    await tx
      .update(webhookDeliveries)
      .set({
        status: "pending",
        attemptCount: 0,
        nextAttemptAt: at,
        updatedAt: at,
      })
      .where(eq(webhookDeliveries.id, d.id));
    await scheduleDeliveryJobs(tx, [d.id]);
    await audit(tx, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "webhook.retry",
      target: ep.id,
      details: { deliveryId: d.id, messageId: d.messageId },
    });
    return { deliveryId: d.id, messageId: d.messageId };
  });
}

// Resends every failed message of the endpoint created since `since` (at most 14 days back).
export async function recoverWebhookMessages(
  ctx: TenantContext,
  input: RecoverWebhookMessagesInput,
): Promise<{ count: number }> {
  const at = now();
  const since = new Date(input.since);
  if (at.getTime() - since.getTime() > RECOVER_MAX_AGE_MS) {
    throw new ValidationError("since must be within the last 14 days", [
      { path: "since", message: "older than 14 days" },
    ]);
  }
  return ctx.db.transaction(async (tx) => {
    const ep = await getWebhookEndpointRowForTenant(
      tx,
      ctx.tenantId,
      input.endpointId,
    );
    requireEnabled(ep);
    takeWebhookAction(ctx.tenantId, "recover");
    const rows = await tx
      .update(webhookDeliveries)
      .set({
        status: "pending",
        attemptCount: 0,
        nextAttemptAt: at,
        updatedAt: at,
      })
      .where(
        and(
          eq(webhookDeliveries.endpointId, ep.id),
          eq(webhookDeliveries.status, "failed"),
          gte(webhookDeliveries.createdAt, since),
        ),
      )
      .returning({ id: webhookDeliveries.id });
    await scheduleDeliveryJobs(
      tx,
      rows.map((r) => r.id),
    );
    await audit(tx, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "webhook.recover",
      target: ep.id,
      details: { since: iso(since), count: rows.length },
    });
    return { count: rows.length };
  });
}
