// What the webhook and the channel routes answer alike: a subscription's filters and state, its
// deliveries with their attempts, and the refusals of a test message.
import { z } from "zod";
import { WEBHOOK_ACTION_LIMITS } from "@/server/notify/tenant-caps";
import { ErrorBody, Timestamp } from "../schemas";

export const tenantAuth = ["tenant"] as ["tenant"];
export const errorResponse = (description: string) => ({
  description,
  schema: ErrorBody,
});

// after a subscription's own fields (id, URL or routing key, kind)
export const subscriptionFields = {
  eventTypes: z.array(z.string()),
  projectIds: z.array(z.string()).optional(),
  description: z.string().optional(),
  status: z.enum(["enabled", "disabled"]),
  disabledReason: z.string().optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

const DeliveryAttempt = z
  .object({
    at: Timestamp,
    statusCode: z.number().int().nullable(),
    error: z.string().optional(),
    latencyMs: z.number().int(),
    responseExcerpt: z.string(),
  })
  .meta({ id: "DeliveryAttempt" });

export function deliveryOut(id: string, messageIdDescription: string) {
  return z
    .object({
      id: z.string().describe("dlv_…"),
      messageId: z.string().describe(messageIdDescription),
      type: z.string(),
      status: z.enum(["pending", "succeeded", "failed"]),
      createdAt: Timestamp,
      nextAttemptAt: Timestamp.nullable(),
      attempts: z.array(DeliveryAttempt),
    })
    .meta({ id });
}

// POST …/test: refused while disabled, and past the tenant's test-message rate
export const testRefusals = (noun: string) => ({
  409: errorResponse(`The ${noun} is disabled`),
  429: errorResponse(
    `More than ${WEBHOOK_ACTION_LIMITS.test.capacity} test messages a minute for this tenant (Retry-After)`,
  ),
});
