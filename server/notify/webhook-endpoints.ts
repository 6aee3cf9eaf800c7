import { and, desc, eq, inArray, lt, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { WEBHOOK_EVENT_TYPES } from "@/db/constants";
import { newId } from "@/db/ids";
import {
  projects,
  tenants,
  webhookDeliveries,
  webhookEndpoints,
} from "@/db/schema";
import { audit } from "@/server/audit";
import { now } from "@/server/clock";
import type { TenantContext } from "@/server/context";
import { env } from "@/server/env";
import { ConflictError, NotFoundError, ValidationError } from "@/server/errors";
import type { ErrorDetail } from "@/server/errors";
import { decodeCursor, ListQuery, page } from "@/server/core/cursor";
import { iso } from "@/server/core/time";
import { OperatorId } from "@/server/core/validation";
import { validateWebhookUrl } from "./ssrf.mjs";
import { MAX_WEBHOOK_ENDPOINTS, takeWebhookAction } from "./tenant-caps";
import type { WebhookEndpointRow } from "./webhook-messages";
import { emitWebhooks } from "./webhook-messages";
import { generateWebhookSecret } from "./webhook-signature";

export const SECRET_OVERLAP_MS = 24 * 3600_000;

export const WebhookEventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1, "subscribe to at least one event type")
  .max(WEBHOOK_EVENT_TYPES.length * 2);
// The filters and state every subscription (webhook endpoint or channel) takes alike.
export const ProjectIds = z
  .array(OperatorId)
  .min(1, "omit projectIds (or send null) to receive every project")
  .max(200);
const Url = z.string().min(1, "url is required").max(4096);
export const Description = z.string().max(500);
export const EndpointStatus = z.enum(["enabled", "disabled"]);

export const CreateWebhookEndpointInput = z.strictObject({
  url: Url,
  eventTypes: WebhookEventTypes,
  projectIds: ProjectIds.optional(),
  description: Description.optional(),
  status: EndpointStatus.optional(),
});
export type CreateWebhookEndpointInput = z.infer<
  typeof CreateWebhookEndpointInput
>;

// PATCH body: omitted fields keep their value; projectIds/description null clears them.
export const WebhookEndpointPatch = z.strictObject({
  url: Url.optional(),
  eventTypes: WebhookEventTypes.optional(),
  projectIds: ProjectIds.nullable().optional(),
  description: Description.nullable().optional(),
  status: EndpointStatus.optional(),
});
export type WebhookEndpointPatch = z.infer<typeof WebhookEndpointPatch>;

export const UpdateWebhookEndpointInput = WebhookEndpointPatch.extend({
  id: z.string().max(64),
});
export type UpdateWebhookEndpointInput = z.infer<
  typeof UpdateWebhookEndpointInput
>;

export const WebhookEndpointIdInput = z.object({ id: z.string().max(64) });
export type WebhookEndpointIdInput = z.infer<typeof WebhookEndpointIdInput>;

export const ListWebhookEndpointsInput = ListQuery;
export type ListWebhookEndpointsInput = z.infer<
  typeof ListWebhookEndpointsInput
>;

// What every subscription answers after its own fields (id, URL, kind): its filters, state, times.
export function subscriptionFields(r: WebhookEndpointRow) {
  return {
    eventTypes: r.eventTypes,
    ...(r.projectIds?.length ? { projectIds: r.projectIds } : {}),
    ...(r.description ? { description: r.description } : {}),
    status: r.status,
    ...(r.status === "disabled" && r.disabledReason
      ? { disabledReason: r.disabledReason }
      : {}),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

export function webhookEndpointView(r: WebhookEndpointRow) {
  return { id: r.id, url: r.url, ...subscriptionFields(r) };
}
export type WebhookEndpointView = ReturnType<typeof webhookEndpointView>;

// Webhook endpoints and chat/paging channels are one table of subscriptions (`kind` names the
// channel); each API sees only its own family.
export type SubscriptionFamily = "webhook" | "channel";

export function familyCondition(family: SubscriptionFamily) {
  return family === "webhook"
    ? eq(webhookEndpoints.kind, "webhook")
    : ne(webhookEndpoints.kind, "webhook");
}

const FAMILY_NAME: Record<SubscriptionFamily, string> = {
  webhook: "webhook endpoint",
  channel: "channel",
};

export async function getSubscriptionRowForTenant(
  db: Db,
  tenantId: string,
  id: string,
  family: SubscriptionFamily,
): Promise<WebhookEndpointRow> {
  const [row] = await db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.tenantId, tenantId),
        eq(webhookEndpoints.id, id),
        familyCondition(family),
      ),
    );
  if (!row) throw new NotFoundError(`No ${FAMILY_NAME[family]} ${id}`);
  return row;
}

export function getWebhookEndpointRowForTenant(
  db: Db,
  tenantId: string,
  id: string,
): Promise<WebhookEndpointRow> {
  return getSubscriptionRowForTenant(db, tenantId, id, "webhook");
}

// The SSRF rule for a URL a tenant chose (checked again on the address actually connected to).
export function checkUrl(url: string, what = "webhook URL"): string {
  const check = validateWebhookUrl(url, {
    allowPrivate: env().webhookAllowPrivate,
  });
  if (!check.ok)
    throw new ValidationError(`Invalid ${what}: ${check.message}`, [
      { path: "url", message: check.message },
    ]);
  return url;
}

export async function checkProjects(
  db: Db,
  tenantId: string,
  ids: string[],
): Promise<string[]> {
  const unique = [...new Set(ids)];
  const known = new Set(
    (
      await db
        .select({ id: projects.id })
        .from(projects)
        .where(
          and(eq(projects.tenantId, tenantId), inArray(projects.id, unique)),
        )
    ).map((p) => p.id),
  );
  const details: ErrorDetail[] = [];
  ids.forEach((id, i) => {
    if (!known.has(id))
      details.push({
        path: `projectIds.${i}`,
        message: `unknown project ${id}`,
      });
  });
  if (details.length)
    throw new ValidationError(
      "projectIds names a project this tenant does not have",
      details,
    );
  return unique;
}

export async function listWebhookEndpoints(
  ctx: TenantContext,
  input: Partial<ListWebhookEndpointsInput> = {},
) {
  const q = ListWebhookEndpointsInput.parse(input);
  const c = decodeCursor(q.cursor, 1) as [string] | null;
  const rows = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.tenantId, ctx.tenantId),
        familyCondition("webhook"),
        c ? lt(webhookEndpoints.id, c[0]) : undefined,
      ),
    )
    .orderBy(desc(webhookEndpoints.id))
    .limit(q.limit + 1);
  const p = page(rows, q.limit, (r) => [r.id]);
  return { data: p.data.map(webhookEndpointView), nextCursor: p.nextCursor };
}

export async function getWebhookEndpoint(
  ctx: TenantContext,
  input: WebhookEndpointIdInput,
) {
  return webhookEndpointView(
    await getWebhookEndpointRowForTenant(ctx.db, ctx.tenantId, input.id),
  );
}

// Answers the secret: this and rotateWebhookSecret are the only times it is shown.
export async function createWebhookEndpoint(
  ctx: TenantContext,
  input: CreateWebhookEndpointInput,
) {
  const url = checkUrl(input.url);
  return ctx.db.transaction(async (tx) => {
    await lockSubscriptionCap(tx, ctx.tenantId, "webhook");
    const projectIds = input.projectIds
      ? await checkProjects(tx, ctx.tenantId, input.projectIds)
      : null;
    const at = now();
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        id: newId("whe"),
        tenantId: ctx.tenantId,
        url,
        eventTypes: [...new Set(input.eventTypes)],
        projectIds,
        description: input.description ?? null,
        status: input.status ?? "enabled",
        disabledReason:
          input.status === "disabled" ? "disabled by a member" : null,
        secret: generateWebhookSecret(),
        createdAt: at,
        updatedAt: at,
      })
      .returning();
    await audit(tx, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "webhook.create",
      target: row!.id,
      details: { url, eventTypes: row!.eventTypes, projectIds },
    });
    return { ...webhookEndpointView(row!), secret: row!.secret };
  });
}

// One create at a time per tenant, so the cap holds under concurrent requests.
export async function lockSubscriptionCap(
  tx: Db,
  tenantId: string,
  family: SubscriptionFamily,
): Promise<void> {
  await tx
    .select({ id: tenants.id })
    .from(tenants)
    .where(eq(tenants.id, tenantId))
    .for("update");
  const [{ n } = { n: 0 }] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(webhookEndpoints)
    .where(
      and(eq(webhookEndpoints.tenantId, tenantId), familyCondition(family)),
    );
  if (n >= MAX_WEBHOOK_ENDPOINTS) {
    throw new ConflictError(
      `A tenant has at most ${MAX_WEBHOOK_ENDPOINTS} ${FAMILY_NAME[family]}s; delete one before adding another`,
    );
  }
}

export async function updateWebhookEndpoint(
  ctx: TenantContext,
  input: UpdateWebhookEndpointInput,
) {
  const { id, url, ...patch } = input;
  if (url !== undefined) checkUrl(url);
  const row = await patchSubscription(ctx, {
    id,
    family: "webhook",
    patch,
    set: url !== undefined ? { url } : {},
    details: input,
  });
  return webhookEndpointView(row);
}

// What webhook endpoints and channels patch alike: filters, description, status (disabling fails
// the pending deliveries; re-enabling starts the 5-day failure clock afresh).
export async function patchSubscription(
  ctx: TenantContext,
  p: {
    id: string;
    family: SubscriptionFamily;
    patch: Pick<
      WebhookEndpointPatch,
      "eventTypes" | "projectIds" | "description" | "status"
    >;
    set: Partial<typeof webhookEndpoints.$inferInsert>;
    details: Record<string, unknown>;
  },
): Promise<WebhookEndpointRow> {
  const { patch } = p;
  return ctx.db.transaction(async (tx) => {
    const cur = await getSubscriptionRowForTenant(
      tx,
      ctx.tenantId,
      p.id,
      p.family,
    );
    const at = now();
    const set: Partial<typeof webhookEndpoints.$inferInsert> = {
      ...p.set,
      updatedAt: at,
    };
    if (patch.eventTypes !== undefined)
      set.eventTypes = [...new Set(patch.eventTypes)];
    if (patch.projectIds !== undefined)
      set.projectIds =
        patch.projectIds === null
          ? null
          : await checkProjects(tx, ctx.tenantId, patch.projectIds);
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.status !== undefined && patch.status !== cur.status) {
      set.status = patch.status;
      // re-enabling starts afresh: the 5-day failure clock and the reason are cleared
      set.disabledReason =
        patch.status === "disabled" ? "disabled by a member" : null;
      set.failingSince = null;
    }
    const [row] = await tx
      .update(webhookEndpoints)
      .set(set)
      .where(eq(webhookEndpoints.id, cur.id))
      .returning();
    if (set.status === "disabled") await failPending(tx, cur.id, at);
    await audit(tx, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: `${p.family}.update`,
      target: cur.id,
      details: p.details,
    });
    return row!;
  });
}

async function failPending(tx: Db, endpointId: string, at: Date) {
  await tx
    .update(webhookDeliveries)
    .set({ status: "failed", nextAttemptAt: null, updatedAt: at })
    .where(
      and(
        eq(webhookDeliveries.endpointId, endpointId),
        eq(webhookDeliveries.status, "pending"),
      ),
    );
}

// Deliveries still pending for it fail; its delivery history stays until retention removes it.
export async function deleteWebhookEndpoint(
  ctx: TenantContext,
  input: WebhookEndpointIdInput,
): Promise<void> {
  await deleteSubscription(ctx, input.id, "webhook", (cur) => ({
    url: cur.url,
  }));
}

export async function deleteSubscription(
  ctx: TenantContext,
  id: string,
  family: SubscriptionFamily,
  details: (cur: WebhookEndpointRow) => Record<string, unknown>,
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    const cur = await getSubscriptionRowForTenant(tx, ctx.tenantId, id, family);
    await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, cur.id));
    await failPending(tx, cur.id, now());
    await audit(tx, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: `${family}.delete`,
      target: cur.id,
      details: details(cur),
    });
  });
}

export function requireEnabled(ep: WebhookEndpointRow): void {
  if (ep.status !== "enabled") {
    const what = ep.kind === "webhook" ? "Webhook endpoint" : "Channel";
    throw new ConflictError(
      `${what} ${ep.id} is disabled; re-enable it first (PATCH { "status": "enabled" })`,
    );
  }
}

export async function sendTestWebhook(
  ctx: TenantContext,
  input: WebhookEndpointIdInput,
): Promise<{ messageId: string }> {
  const { messageId } = await sendTestMessage(ctx, input.id, "webhook");
  return { messageId };
}

// A webhook.test message to this one subscription (the test button).
export async function sendTestMessage(
  ctx: TenantContext,
  id: string,
  family: SubscriptionFamily,
): Promise<{ messageId: string; deliveryId: string }> {
  return ctx.db.transaction(async (tx) => {
    const ep = await getSubscriptionRowForTenant(tx, ctx.tenantId, id, family);
    requireEnabled(ep);
    takeWebhookAction(ctx.tenantId, "test");
    const at = now();
    const { messageIds, deliveryIds } = await emitWebhooks(
      tx,
      [
        {
          tenantId: ctx.tenantId,
          type: "webhook.test",
          projectId: null,
          data: {
            endpointId: ep.id,
            message: "This is a test message from Poisonwatch.",
          },
        },
      ],
      at,
      { endpoints: new Map([[ctx.tenantId, [ep]]]), onlyEndpointId: ep.id },
    );
    await audit(tx, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: `${family}.test`,
      target: ep.id,
      details: { messageId: messageIds[0] },
    });
    return { messageId: messageIds[0]!, deliveryId: deliveryIds[0]! };
  });
}

// The previous secret keeps signing for 24 h beside the new one, so receivers can switch over.
export async function rotateWebhookSecret(
  ctx: TenantContext,
  input: WebhookEndpointIdInput,
) {
  return ctx.db.transaction(async (tx) => {
    const cur = await getWebhookEndpointRowForTenant(
      tx,
      ctx.tenantId,
      input.id,
    );
    const at = now();
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        secret: generateWebhookSecret(),
        previousSecret: cur.secret,
        previousSecretExpiresAt: new Date(at.getTime() + SECRET_OVERLAP_MS),
        updatedAt: at,
      })
      .where(eq(webhookEndpoints.id, cur.id))
      .returning();
    await audit(tx, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "webhook.rotate_secret",
      target: cur.id,
    });
    return {
      ...webhookEndpointView(row!),
      secret: row!.secret,
      previousSecretExpiresAt: iso(row!.previousSecretExpiresAt),
    };
  });
}
