import { env } from "@/server/env";
import type { ChannelMessage, HttpChannel, RenderContext } from "../channel";
import { maskSecret } from "../channel";
import { chatMessageOf, clip } from "./chat-message";

export const PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue";
// Events API v2 limits
export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255 };

// Pages are about incidents: opened/updated trigger (the same dedup_key updates one alert),
// resolved resolves it. A storm on one VM is one incident, coalesced like email, so one page.
export const PAGERDUTY_EVENT_TYPES = [
  "incident.opened",
  "incident.updated",
  "incident.resolved",
] as const;

export function renderPagerDuty(
  msg: ChannelMessage,
  routingKey: string,
  rc: RenderContext,
): object | null {
  const m = chatMessageOf(msg, rc);
  if (msg.type === "incident.resolved" && m.incidentId)
    return {
      routing_key: routingKey,
      event_action: "resolve",
      dedup_key: m.incidentId,
    };
  const isTest = msg.type === "webhook.test";
  if (
    !isTest &&
    !(PAGERDUTY_EVENT_TYPES as readonly string[]).includes(msg.type)
  )
    return null;
  return {
    routing_key: routingKey,
    event_action: "trigger",
    // the test is its own alert (severity info), never folded into a real one
    dedup_key: clip(
      m.incidentId ?? `poisonwatch-test-${msg.id}`,
      PAGERDUTY_LIMITS.dedupKey,
    ),
    payload: {
      summary: clip(`${m.title}: ${m.summary}`, PAGERDUTY_LIMITS.summary),
      source: m.vm?.name ?? "poisonwatch",
      severity: m.severity,
      timestamp: msg.timestamp,
      component: m.vm?.id ?? "poisonwatch",
      group: m.projectId ?? "poisonwatch",
      class: m.playbookKey ?? (isTest ? "test" : msg.type),
      custom_details: {
        ...Object.fromEntries(m.facts.map((f) => [f.title, f.value])),
        ...(m.step ? { "First step": `${m.step.title}: ${m.step.body}` } : {}),
      },
    },
    links: m.link ? [{ href: m.link.url, text: m.link.text }] : [],
    client: "Poisonwatch",
    client_url: rc.consoleUrl,
  };
}

// PagerDuty Events API v2: the routing key (an integration key) is the subscription's secret.
export const pagerdutyChannel: HttpChannel = {
  kind: "pagerduty",
  transport: "http",
  label: "PagerDuty",
  eventTypes: PAGERDUTY_EVENT_TYPES,
  urlIsTenantChosen: false,
  wantsPlaybook: true,
  publicFields: (row) => ({ routingKey: maskSecret(row.secret) }),
  render: (msg, target, rc) => {
    const body = renderPagerDuty(msg, target.secrets[0] ?? "", rc);
    if (!body) return null;
    return {
      url: env().PAGERDUTY_EVENTS_URL ?? PAGERDUTY_EVENTS_URL,
      headers: {},
      body: JSON.stringify(body),
      // the operator's configuration, like the control-plane callback
      allowPrivate: true,
    };
  },
};
