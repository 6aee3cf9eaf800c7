import type { HttpChannel } from "../channel";
import type { ChatMessage } from "./chat-message";
import { chatChannel, clip } from "./chat-message";

// Block Kit limits (api.slack.com/reference/block-kit/blocks and …/block-elements).
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  buttonText: 75,
  buttonUrl: 3000,
  contextElements: 10,
  // the top-level text is the notification and fallback; Slack truncates past 40,000
  text: 4000,
};

// mrkdwn treats &, < and > as control characters.
function esc(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

export function renderSlack(m: ChatMessage) {
  const L = SLACK_LIMITS;
  const blocks: object[] = [
    {
      type: "header",
      text: {
        type: "plain_text",
        text: clip(m.title, L.headerText),
        emoji: false,
      },
    },
    {
      type: "section",
      text: { type: "mrkdwn", text: clip(esc(m.summary), L.sectionText) },
      fields: m.facts.slice(0, L.sectionFields).map((f) => ({
        type: "mrkdwn",
        text: clip(`*${esc(f.title)}*\n${esc(f.value)}`, L.fieldText),
      })),
    },
  ];
  if (m.step)
    blocks.push({
      type: "section",
      text: {
        type: "mrkdwn",
        text: clip(
          `*First step: ${esc(m.step.title)}*\n${esc(m.step.body)}`,
          L.sectionText,
        ),
      },
    });
  if (m.link && m.link.url.length <= L.buttonUrl)
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          text: { type: "plain_text", text: clip(m.link.text, L.buttonText) },
          url: m.link.url,
          action_id: "open_incident",
          style: m.severity === "critical" ? "danger" : "primary",
        },
      ],
    });
  return {
    text: clip(`${m.title}: ${m.summary}`, L.text),
    blocks: blocks.slice(0, L.blocks),
  };
}

// Slack incoming webhooks: POST { text, blocks } to the URL Slack made for a channel.
export const slackChannel: HttpChannel = chatChannel(
  "slack",
  "Slack",
  renderSlack,
);
