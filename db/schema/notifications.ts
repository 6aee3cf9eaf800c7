import { sql } from "drizzle-orm";
import {
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: text().primaryKey(),
    tenantId: text().notNull(),
    // which channel renders its messages: "webhook", or a chat / paging channel (/api/v1/channels)
    kind: text().notNull().default("webhook"),
    // slack/teams: the incoming-webhook URL (it carries a secret; answered masked);
    // pagerduty: empty (PAGERDUTY_EVENTS_URL at delivery)
    url: text().notNull(),
    eventTypes: jsonb().$type<string[]>().notNull(),
    projectIds: jsonb().$type<string[] | null>(),
    description: text(),
    status: text().$type<"enabled" | "disabled">().notNull(),
    disabledReason: text(),
    // secrets sign every attempt (PagerDuty: the routing key), so they are kept; the API never
    // answers them after creation
    secret: text().notNull(),
    previousSecret: text(),
    previousSecretExpiresAt: timestamp({ withTimezone: true }),
    failingSince: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [index("webhook_endpoints_tenant_id_idx").on(t.tenantId)],
);

// A message (msg_…, the webhook-id) is one payload; tenantId null = operator callback.
export const webhookMessages = pgTable(
  "webhook_messages",
  {
    id: text().primaryKey(),
    tenantId: text(),
    type: text().notNull(),
    payload: jsonb()
      .$type<{ type: string; timestamp: string; data: unknown }>()
      .notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
  },
  (t) => [
    index("webhook_messages_tenant_id_created_at_idx").on(
      t.tenantId,
      t.createdAt,
    ),
  ],
);

// endpointId "callback" = the control-plane callback.
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text().primaryKey(),
    messageId: text().notNull(),
    endpointId: text().notNull(),
    tenantId: text(),
    type: text().notNull(),
    status: text().$type<"pending" | "succeeded" | "failed">().notNull(),
    attemptCount: integer().notNull().default(0),
    nextAttemptAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    updatedAt: timestamp({ withTimezone: true }).notNull(),
    succeededAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_message_id_endpoint_id_idx").on(
      t.messageId,
      t.endpointId,
    ),
    index("webhook_deliveries_endpoint_id_created_at_idx").on(
      t.endpointId,
      t.createdAt,
    ),
    index("webhook_deliveries_next_attempt_at_idx").on(t.nextAttemptAt),
  ],
);

export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: text().primaryKey(),
    deliveryId: text().notNull(),
    at: timestamp({ withTimezone: true }).notNull(),
    statusCode: integer(),
    error: text(),
    latencyMs: integer().notNull(),
    responseExcerpt: text().notNull().default(""),
  },
  (t) => [
    index("webhook_attempts_delivery_id_at_idx").on(t.deliveryId, t.at),
    index("webhook_attempts_at_idx").on(t.at),
  ],
);

// Rendered at enqueue so every retry sends the same bytes under the same idempotency key.
export const emails = pgTable(
  "emails",
  {
    id: text().primaryKey(),
    tenantId: text(),
    kind: text().notNull(),
    to: jsonb().$type<string[]>().notNull(),
    subject: text().notNull(),
    html: text().notNull(),
    text: text().notNull(),
    idempotencyKey: text().notNull(),
    // several due emails go in one Resend batch call; a batch is retried whole under this key
    batchKey: text(),
    status: text().$type<"queued" | "sent" | "failed" | "outbox">().notNull(),
    providerId: text(),
    attempts: integer().notNull().default(0),
    lastError: text(),
    nextAttemptAt: timestamp({ withTimezone: true }),
    incidentId: text(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    sentAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    uniqueIndex("emails_idempotency_key_idx").on(t.idempotencyKey),
    index("emails_tenant_id_created_at_idx").on(t.tenantId, t.createdAt),
    index("emails_status_next_attempt_at_idx").on(t.status, t.nextAttemptAt),
    index("emails_batch_key_idx")
      .on(t.batchKey)
      .where(sql`${t.batchKey} is not null`),
  ],
);
