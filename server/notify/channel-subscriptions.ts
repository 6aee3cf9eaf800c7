import { and, desc, eq, lt } from "drizzle-orm";
import { z } from "zod";
import { WEBHOOK_EVENT_TYPES } from "@/db/constants";
import { newId } from "@/db/ids";
import { webhookEndpoints } from "@/db/schema";
import { audit } from "@/server/audit";
import type { TenantContext } from "@/server/context";
import { decodeCursor, ListQuery, page } from "@/server/core/cursor";
import { ValidationError } from "@/server/errors";
import type { ErrorDetail } from "@/server/errors";
import type { HttpChannel } from "./channel";
import { httpChannel, subscriptionChannels } from "./channels";
import {
  listSubscriptionDeliveries,
  WebhookDeliveriesQuery,
} from "./webhook-deliveries";
import {
  checkProjects,
  checkUrl,
  deleteSubscription,
  Description,
  EndpointStatus,
  familyCondition,
  getSubscriptionRowForTenant,
  lockSubscriptionCap,
  patchSubscription,
  ProjectIds,
  sendTestMessage,
  subscriptionFields,
} from "./webhook-endpoints";
import type { WebhookEndpointRow } from "./webhook-messages";

// Chat and paging channels (/api/v1/channels): subscriptions beside webhooks, with the same
// filters, test, delivery log, retries, disabling and SSRF rule; each kind renders its own
// message (server/notify/channels/). The URL of a chat channel carries a secret and a PagerDuty
// routing key is one: both are answered whole only when created, masked afterwards.

export const CHANNEL_KINDS = ["slack", "teams", "pagerduty"] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

const EventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES))
  .min(1, "subscribe to at least one event type (or omit eventTypes)")
  .max(WEBHOOK_EVENT_TYPES.length * 2);
const Url = z.string().min(1, "url is required").max(2048);
// PagerDuty integration keys (Events API v2 routing keys) are 32 characters
const RoutingKey = z
  .string()
  .regex(
    /^[A-Za-z0-9]{32}$/,
    "a PagerDuty routing key is the 32-character integration key of an Events API v2 integration",
  );

const common = {
  eventTypes: EventTypes.optional(),
  projectIds: ProjectIds.optional(),
  description: Description.optional(),
  status: EndpointStatus.optional(),
};
export const CreateChannelInput = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("slack"), url: Url, ...common }),
  z.strictObject({ kind: z.literal("teams"), url: Url, ...common }),
  z.strictObject({
    kind: z.literal("pagerduty"),
    routingKey: RoutingKey,
    ...common,
  }),
]);
export type CreateChannelInput = z.infer<typeof CreateChannelInput>;

// PATCH: omitted fields keep their value; the kind never changes.
export const ChannelPatch = z.strictObject({
  url: Url.optional(),
  routingKey: RoutingKey.optional(),
  eventTypes: EventTypes.optional(),
  projectIds: ProjectIds.nullable().optional(),
  description: Description.nullable().optional(),
  status: EndpointStatus.optional(),
});
export type ChannelPatch = z.infer<typeof ChannelPatch>;
export const UpdateChannelInput = ChannelPatch.extend({
  id: z.string().max(64),
});
export type UpdateChannelInput = z.infer<typeof UpdateChannelInput>;
export const ChannelIdInput = z.object({ id: z.string().max(64) });
export type ChannelIdInput = z.infer<typeof ChannelIdInput>;
export const ListChannelsInput = ListQuery.extend({
  kind: z.enum(CHANNEL_KINDS).optional(),
});
export type ListChannelsInput = z.input<typeof ListChannelsInput>;
export const ListChannelDeliveriesInput = WebhookDeliveriesQuery.extend({
  id: z.string().max(64),
});
export type ListChannelDeliveriesInput = z.input<
  typeof ListChannelDeliveriesInput
>;

// The event types a kind is subscribed to when the request names none.
// Chat: incidents and restarts, not every single memory error.
const CHAT_DEFAULT_EVENT_TYPES = [
  "incident.opened",
  "incident.updated",
  "incident.resolved",
  "vm.evacuation_scheduled",
  "vm.evacuation_rescheduled",
  "vm.evacuation_cancelled",
  "vm.evacuation_completed",
];
const DEFAULT_EVENT_TYPES: Record<ChannelKind, string[]> = {
  slack: CHAT_DEFAULT_EVENT_TYPES,
  teams: CHAT_DEFAULT_EVENT_TYPES,
  pagerduty: ["incident.opened", "incident.updated", "incident.resolved"],
};

function channelOf(kind: string): HttpChannel {
  const c = httpChannel(kind);
  if (!c) throw new Error(`unknown channel kind ${kind}`);
  return c;
}

export function channelView(r: WebhookEndpointRow) {
  const c = channelOf(r.kind);
  return {
    id: r.id,
    kind: r.kind as ChannelKind,
    // masked: the URL of a chat channel, the routing key of a PagerDuty one
    ...(c.publicFields({ url: r.url, secret: r.secret }) as {
      url?: string;
      routingKey?: string;
    }),
    ...subscriptionFields(r),
  };
}
export type ChannelView = ReturnType<typeof channelView>;

function checkEventTypes(kind: string, types: string[]): string[] {
  const c = channelOf(kind);
  const details: ErrorDetail[] = [];
  types.forEach((t, i) => {
    if (!c.eventTypes.includes(t))
      details.push({
        path: `eventTypes.${i}`,
        message: `a ${c.label} channel does not send ${t} (it sends ${c.eventTypes.join(", ")})`,
      });
  });
  if (details.length)
    throw new ValidationError(
      `eventTypes names a type a ${c.label} channel does not send`,
      details,
    );
  return [...new Set(types)];
}

function wrongField(field: string, kind: string): never {
  throw new ValidationError(
    `A ${channelOf(kind).label} channel has no ${field}`,
    [{ path: field, message: `not a field of a ${kind} channel` }],
  );
}

export async function listChannels(
  ctx: TenantContext,
  input: ListChannelsInput = {},
) {
  const q = ListChannelsInput.parse(input);
  const c = decodeCursor(q.cursor, 1) as [string] | null;
  const rows = await ctx.db
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.tenantId, ctx.tenantId),
        familyCondition("channel"),
        q.kind ? eq(webhookEndpoints.kind, q.kind) : undefined,
        c ? lt(webhookEndpoints.id, c[0]) : undefined,
      ),
    )
    .orderBy(desc(webhookEndpoints.id))
    .limit(q.limit + 1);
  const p = page(rows, q.limit, (r) => [r.id]);
  return { data: p.data.map(channelView), nextCursor: p.nextCursor };
}

export async function getChannel(ctx: TenantContext, input: ChannelIdInput) {
  return channelView(
    await getSubscriptionRowForTenant(
      ctx.db,
      ctx.tenantId,
      input.id,
      "channel",
    ),
  );
}

// Answers the URL or routing key whole: the only time it is shown.
export async function createChannel(
  ctx: TenantContext,
  input: CreateChannelInput,
) {
  const url =
    "url" in input ? checkUrl(input.url, `${input.kind} webhook URL`) : "";
  const secret = "routingKey" in input ? input.routingKey : "";
  const eventTypes = checkEventTypes(
    input.kind,
    input.eventTypes ?? DEFAULT_EVENT_TYPES[input.kind],
  );
  return ctx.db.transaction(async (tx) => {
    await lockSubscriptionCap(tx, ctx.tenantId, "channel");
    const projectIds = input.projectIds
      ? await checkProjects(tx, ctx.tenantId, input.projectIds)
      : null;
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        id: newId("chn"),
        tenantId: ctx.tenantId,
        kind: input.kind,
        url,
        eventTypes,
        projectIds,
        description: input.description ?? null,
        status: input.status ?? "enabled",
        disabledReason:
          input.status === "disabled" ? "disabled by a member" : null,
        secret,
        createdAt: ctx.now,
        updatedAt: ctx.now,
      })
      .returning();
    await audit(tx, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "channel.create",
      target: row!.id,
      details: { kind: input.kind, eventTypes, projectIds },
    });
    return {
      ...channelView(row!),
      ...("url" in input ? { url } : { routingKey: secret }),
    };
  });
}

export async function updateChannel(
  ctx: TenantContext,
  input: UpdateChannelInput,
) {
  const { id, url, routingKey, ...patch } = input;
  const cur = await getSubscriptionRowForTenant(
    ctx.db,
    ctx.tenantId,
    id,
    "channel",
  );
  const c = channelOf(cur.kind);
  const set: Partial<typeof webhookEndpoints.$inferInsert> = {};
  if (url !== undefined) {
    if (!c.urlIsTenantChosen) wrongField("url", cur.kind);
    set.url = checkUrl(url, `${cur.kind} webhook URL`);
  }
  if (routingKey !== undefined) {
    if (cur.kind !== "pagerduty") wrongField("routingKey", cur.kind);
    set.secret = routingKey;
  }
  if (patch.eventTypes)
    patch.eventTypes = checkEventTypes(
      cur.kind,
      patch.eventTypes,
    ) as typeof patch.eventTypes;
  const row = await patchSubscription(ctx, {
    id,
    family: "channel",
    patch,
    set,
    // never the secret itself
    details: {
      ...patch,
      ...(url !== undefined ? { url: "changed" } : {}),
      ...(routingKey !== undefined ? { routingKey: "changed" } : {}),
    },
  });
  return channelView(row);
}

export async function deleteChannel(
  ctx: TenantContext,
  input: ChannelIdInput,
): Promise<void> {
  await deleteSubscription(ctx, input.id, "channel", (cur) => ({
    kind: cur.kind,
  }));
}

// A test message through the channel's own renderer (202; the delivery log shows the answer).
export async function sendTestChannelMessage(
  ctx: TenantContext,
  input: ChannelIdInput,
) {
  return sendTestMessage(ctx, input.id, "channel");
}

export async function listChannelDeliveries(
  ctx: TenantContext,
  input: ListChannelDeliveriesInput,
) {
  const { id, ...q } = input;
  return listSubscriptionDeliveries(ctx, { ...q, endpointId: id }, "channel");
}

export function channelKinds() {
  return subscriptionChannels().map((c) => ({
    kind: c.kind as ChannelKind,
    label: c.label,
    // webhook.test goes to one channel on request only, never a subscription
    eventTypes: c.eventTypes.filter((t) => t !== "webhook.test"),
    defaultEventTypes: DEFAULT_EVENT_TYPES[c.kind as ChannelKind],
  }));
}
