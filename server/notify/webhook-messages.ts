import { and, eq, inArray } from "drizzle-orm";
import { bulkInsert } from "@/db/bulk";
import type { Db } from "@/db/client";
import { getDbHandle } from "@/db";
import { sendInTx } from "@/server/jobs/boss";
import type { WebhookEventType } from "@/db/constants";
import { newId } from "@/db/ids";
import {
  webhookDeliveries,
  webhookEndpoints,
  webhookMessages,
} from "@/db/schema";
import { iso } from "@/server/core/time";

export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;

// The control plane's callback is a delivery whose endpoint is this fixed id (tenantId null).
export const CALLBACK_ENDPOINT_ID = "callback";

export type OutgoingWebhook = {
  tenantId: string;
  type: WebhookEventType;
  // the project the message is about; null for messages that no project filter applies to
  projectId: string | null;
  data: unknown;
};

export type WebhookPayload = { type: string; timestamp: string; data: unknown };

const JOB_CHUNK = 100;
const INSERT_CHUNK = 1000;

export async function loadEnabledEndpoints(
  tx: Db,
  tenantIds: string[],
): Promise<Map<string, WebhookEndpointRow[]>> {
  const out = new Map<string, WebhookEndpointRow[]>();
  const ids = [...new Set(tenantIds)];
  if (!ids.length) return out;
  const rows = await tx
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        inArray(webhookEndpoints.tenantId, ids),
        eq(webhookEndpoints.status, "enabled"),
      ),
    );
  for (const r of rows) {
    const list = out.get(r.tenantId) ?? [];
    list.push(r);
    out.set(r.tenantId, list);
  }
  return out;
}

export function isSubscribed(
  ep: WebhookEndpointRow,
  type: string,
  projectId: string | null,
): boolean {
  if (ep.status !== "enabled") return false;
  if (type !== "webhook.test" && !ep.eventTypes.includes(type)) return false;
  if (
    projectId !== null &&
    ep.projectIds?.length &&
    !ep.projectIds.includes(projectId)
  )
    return false;
  return true;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

// Wakes a webhook worker for these deliveries; the due-scan delivers them anyway if no worker runs.
export async function scheduleDeliveryJobs(
  tx: Db,
  deliveryIds: string[],
): Promise<void> {
  if (!deliveryIds.length) return;
  for (const ids of chunks(deliveryIds, JOB_CHUNK))
    await sendInTx(await getDbHandle(), tx, "webhook", { deliveryIds: ids });
}

type MessageRow = typeof webhookMessages.$inferInsert;
type DeliveryRow = typeof webhookDeliveries.$inferInsert;

async function insertAll(
  tx: Db,
  messages: MessageRow[],
  deliveries: DeliveryRow[],
): Promise<void> {
  for (const c of chunks(messages, INSERT_CHUNK))
    await tx.execute(bulkInsert(webhookMessages, c));
  for (const c of chunks(deliveries, INSERT_CHUNK))
    await tx.execute(bulkInsert(webhookDeliveries, c));
  await scheduleDeliveryJobs(
    tx,
    deliveries.map((d) => d.id),
  );
}

function deliveryRow(m: MessageRow, endpointId: string, at: Date): DeliveryRow {
  return {
    id: newId("dlv"),
    messageId: m.id,
    endpointId,
    tenantId: m.tenantId ?? null,
    type: m.type,
    status: "pending",
    attemptCount: 0,
    nextAttemptAt: at,
    createdAt: at,
    updatedAt: at,
  };
}

// One message per item that has at least one subscriber, one delivery per subscribed endpoint, and
// the worker jobs, all inside the caller's transaction.
export async function emitWebhooks(
  tx: Db,
  items: OutgoingWebhook[],
  at: Date,
  opts: {
    endpoints?: Map<string, WebhookEndpointRow[]>;
    onlyEndpointId?: string;
  } = {},
): Promise<{ messageIds: string[]; deliveryIds: string[] }> {
  if (!items.length) return { messageIds: [], deliveryIds: [] };
  const endpoints =
    opts.endpoints ??
    (await loadEnabledEndpoints(
      tx,
      items.map((i) => i.tenantId),
    ));
  const messages: MessageRow[] = [];
  const deliveries: DeliveryRow[] = [];
  for (const item of items) {
    const targets = (endpoints.get(item.tenantId) ?? []).filter(
      (ep) =>
        (opts.onlyEndpointId === undefined || ep.id === opts.onlyEndpointId) &&
        isSubscribed(ep, item.type, item.projectId),
    );
    if (!targets.length) continue;
    const m: MessageRow = {
      id: newId("msg"),
      tenantId: item.tenantId,
      type: item.type,
      payload: { type: item.type, timestamp: iso(at), data: item.data },
      createdAt: at,
    };
    messages.push(m);
    for (const ep of targets) deliveries.push(deliveryRow(m, ep.id, at));
  }
  await insertAll(tx, messages, deliveries);
  return {
    messageIds: messages.map((m) => m.id!),
    deliveryIds: deliveries.map((d) => d.id!),
  };
}

// vm.evacuation_requested / vm.evacuation_cancelled to the control plane: delivered to whatever
// callback URL is set when it is attempted, so a message made before the operator configured one
// is not lost.
export async function emitCallback(
  tx: Db,
  type: string,
  data: unknown,
  at: Date,
): Promise<{ messageId: string; deliveryId: string }> {
  const m: MessageRow = {
    id: newId("msg"),
    tenantId: null,
    type,
    payload: { type, timestamp: iso(at), data },
    createdAt: at,
  };
  const d = deliveryRow(m, CALLBACK_ENDPOINT_ID, at);
  await insertAll(tx, [m], [d]);
  return { messageId: m.id!, deliveryId: d.id! };
}

// The body every attempt sends: the stored payload with its keys in the documented order.
export function payloadBody(p: WebhookPayload): string {
  return JSON.stringify({ type: p.type, timestamp: p.timestamp, data: p.data });
}
