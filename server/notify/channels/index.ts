import type { Channel, HttpChannel } from "../channel";
import { emailChannel } from "./email";
import { pagerdutyChannel } from "./pagerduty";
import { slackChannel } from "./slack";
import { teamsChannel } from "./teams";
import { webhookChannel } from "./webhook";

// The one list of channels. Adding a channel: its file beside these, and one line here.
export const CHANNELS = [
  emailChannel,
  webhookChannel,
  slackChannel,
  teamsChannel,
  pagerdutyChannel,
] as const satisfies readonly Channel[];

const HTTP = new Map<string, HttpChannel>(
  CHANNELS.filter((c): c is HttpChannel => c.transport === "http").map((c) => [
    c.kind,
    c,
  ]),
);

export function httpChannel(kind: string): HttpChannel | undefined {
  return HTTP.get(kind);
}

// Subscription kinds other than plain webhooks: what /api/v1/channels manages.
export function subscriptionChannels(): HttpChannel[] {
  return [...HTTP.values()].filter((c) => c.kind !== "webhook");
}
