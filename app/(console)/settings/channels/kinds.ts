import type { ChannelKind } from "@/server/notify/channel-subscriptions";

// What each settings page of a chat or paging channel says: where the tenant gets the URL or key.
export type KindCopy = {
  kind: ChannelKind;
  label: string;
  navLabel: string;
  // the one value the platform gives the tenant
  field: "url" | "routingKey";
  fieldLabel: string;
  placeholder: string;
  how: string;
  purpose: string;
};

export const CHANNEL_PAGES: Record<ChannelKind, KindCopy> = {
  slack: {
    kind: "slack",
    label: "Slack",
    navLabel: "Slack",
    field: "url",
    fieldLabel: "Incoming webhook URL",
    placeholder: "https://hooks.slack.com/services/T…/B…/…",
    how: "In Slack: Apps → Incoming Webhooks → Add New Webhook to Workspace, pick the channel, copy the URL.",
    purpose:
      "Posts each incident and restart to a Slack channel: what happened to which VM, the facts, the playbook's first step and a button to the incident.",
  },
  teams: {
    kind: "teams",
    label: "Microsoft Teams",
    navLabel: "Teams",
    field: "url",
    fieldLabel: "Workflows webhook URL",
    placeholder: "https://…/workflows/…/triggers/manual/paths/invoke?…",
    how: "In Teams: Workflows → “Post to a channel when a webhook request is received”, pick the channel, copy the URL.",
    purpose:
      "Posts each incident and restart to a Teams channel as an Adaptive Card: the facts, the playbook's first step and a link to the incident.",
  },
  pagerduty: {
    kind: "pagerduty",
    label: "PagerDuty",
    navLabel: "PagerDuty",
    field: "routingKey",
    fieldLabel: "Integration key (routing key)",
    placeholder: "32 letters and digits",
    how: "In PagerDuty: the service → Integrations → Add an integration → Events API v2, copy the Integration Key.",
    purpose:
      "Pages on-call through the PagerDuty Events API v2: an opened or updated incident triggers one alert (keyed by the incident, so a storm pages once), a resolved one resolves it.",
  },
};

export function channelPage(kind: string): KindCopy | null {
  return Object.hasOwn(CHANNEL_PAGES, kind)
    ? CHANNEL_PAGES[kind as ChannelKind]
    : null;
}

// The masked URL or routing key an answer carries.
export function maskedTarget(c: { url?: string; routingKey?: string }): string {
  return c.url ?? c.routingKey ?? "—";
}
