import type { Db } from "@/db/client";
import type { WebhookPayload } from "./webhook-messages";

// One channel interface. A channel turns a notification (an incident change, an evacuation, a
// test) into a message for one place people read, and hands it to a transport that delivers it
// with retries, backoff, Retry-After, a delivery log, disabling and the SSRF rule:
//
//   - "email":  the message is rendered and stored when it is queued (server/notify/email-queue.ts),
//               and sent by the Resend sender (email-send.ts), under one idempotency key.
//   - "http":   the message is the stored payload { type, timestamp, data } of a subscription
//               delivery (webhook_messages / webhook_deliveries / webhook_attempts); at each attempt
//               the subscription's channel renders the request, and webhook-worker.ts delivers it.
//
// A new HTTP channel is its own file in server/notify/channels/ (its config, masking and renderer)
// and one line in server/notify/channels/index.ts. The queues and workers never change for it.

export type ChannelMessage = WebhookPayload & { id: string };

// The subscription as stored (webhook_endpoints row; `kind` names its channel).
export type ChannelTarget = {
  id: string;
  kind: string;
  url: string;
  // signing secrets (webhooks) or the routing key (PagerDuty)
  secrets: string[];
  allowPrivate: boolean;
};

export type HttpRequestOut = {
  url: string;
  headers: Record<string, string>;
  body: string;
  // operator-configured targets (the control plane, PagerDuty's URL) may be internal
  allowPrivate: boolean;
};

export type RenderContext = {
  // the console's incident page for an incident id
  incidentUrl: (incidentId: string) => string;
  consoleUrl: string;
  // what prepare() loaded for this batch, by incident id
  firstSteps: Map<string, { title: string; body: string }>;
};

export type HttpChannel = {
  kind: string;
  transport: "http";
  // a human name for the console and errors
  label: string;
  // the event types a subscription of this kind may name (webhook.test is always allowed)
  eventTypes: readonly string[];
  // what the subscription stores from its create/patch input: a URL (SSRF-checked by the caller
  // when `urlIsTenantChosen`), and a secret (a signing secret, a routing key)
  urlIsTenantChosen: boolean;
  // the answer's public fields: secrets masked
  publicFields: (row: {
    url: string;
    secret: string;
  }) => Record<string, string>;
  // builds the request of one attempt; null when this channel has nothing to say about the message
  render: (
    msg: ChannelMessage,
    target: ChannelTarget,
    rc: RenderContext,
  ) => HttpRequestOut | null;
  // needs the incident's playbook filled (chat channels show its first step)
  wantsPlaybook?: boolean;
};

export type EmailChannel = {
  kind: "email";
  transport: "email";
  label: string;
};

export type Channel = HttpChannel | EmailChannel;

// Loads what chat renderers need for a batch of messages (by incident id), outside the render.
export type PrepareRender = (
  db: Db,
  msgs: ChannelMessage[],
) => Promise<RenderContext>;

// Masks a secret for answers after creation: the first few characters a person recognizes, and
// the last four.
export function maskSecret(value: string, keep = 4): string {
  if (value.length <= keep * 2)
    return "…".padStart(Math.min(value.length, 4), "•");
  return `${value.slice(0, keep)}…${value.slice(-keep)}`;
}

// A URL that carries a secret in its path: the origin, then the masked rest.
export function maskUrl(value: string): string {
  try {
    const u = new URL(value);
    const rest = `${u.pathname}${u.search}`;
    return `${u.origin}/…${rest.length > 4 ? rest.slice(-4) : ""}`;
  } catch {
    return maskSecret(value);
  }
}
