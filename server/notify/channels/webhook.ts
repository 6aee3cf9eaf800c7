import { WEBHOOK_EVENT_TYPES } from "@/db/constants";
import type { HttpChannel } from "../channel";
import { payloadBody } from "../webhook-messages";
import { signPayload } from "../webhook-signature";

// Standard Webhooks: the stored payload, signed afresh at every attempt with the same webhook-id.
export const webhookChannel: HttpChannel = {
  kind: "webhook",
  transport: "http",
  label: "Webhook",
  eventTypes: WEBHOOK_EVENT_TYPES,
  urlIsTenantChosen: true,
  publicFields: (row) => ({ url: row.url }),
  render: (msg, target) => {
    const body = payloadBody(msg);
    // wall-clock time: receivers compare webhook-timestamp with their own clock
    const headers = signPayload({
      msgId: msg.id,
      timestamp: new Date(),
      body,
      secrets: target.secrets,
    });
    return {
      url: target.url,
      headers,
      body,
      allowPrivate: target.allowPrivate,
    };
  },
};
