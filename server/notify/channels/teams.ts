import type { HttpChannel } from "../channel";
import type { ChatMessage } from "./chat-message";
import { chatChannel, clip } from "./chat-message";

export const ADAPTIVE_CARD_VERSION = "1.4";
// Teams rejects a message over 28 KB; a card's text stays far below that.
const MAX_TEXT = 4000;

export function renderTeams(m: ChatMessage) {
  const body: object[] = [
    {
      type: "TextBlock",
      text: clip(m.title, 200),
      size: "Large",
      weight: "Bolder",
      style: "heading",
      wrap: true,
      color: m.severity === "critical" ? "Attention" : "Default",
    },
    { type: "TextBlock", text: clip(m.summary, MAX_TEXT), wrap: true },
    {
      type: "FactSet",
      facts: m.facts.map((f) => ({
        title: f.title,
        value: clip(f.value, 500),
      })),
    },
  ];
  if (m.step)
    body.push(
      {
        type: "TextBlock",
        text: clip(`First step: ${m.step.title}`, 200),
        weight: "Bolder",
        wrap: true,
        spacing: "Medium",
      },
      { type: "TextBlock", text: clip(m.step.body, MAX_TEXT), wrap: true },
    );
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: ADAPTIVE_CARD_VERSION,
          body,
          actions: m.link
            ? [{ type: "Action.OpenUrl", title: m.link.text, url: m.link.url }]
            : [],
          msteams: { width: "Full" },
        },
      },
    ],
  };
}

// A Microsoft Teams Workflows webhook ("When a Teams webhook request is received" → post card).
export const teamsChannel: HttpChannel = chatChannel(
  "teams",
  "Microsoft Teams",
  renderTeams,
);
