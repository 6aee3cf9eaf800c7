import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Planned } from "./notify-fakes";

// Local stand-ins for Slack incoming webhooks, Microsoft Teams Workflows webhooks and the
// PagerDuty Events API v2. Each checks every message against the platform's documented schema
// and limits, answers like the platform (400 for a message it would reject), and records what it
// saw; `violations` must stay empty.
//
// Slack: api.slack.com/reference/block-kit/blocks (header text plain_text ≤ 150; section text
//   ≤ 3000, ≤ 10 fields of ≤ 2000; ≤ 50 blocks; button text ≤ 75, url ≤ 3000, action_id ≤ 255).
// Teams: adaptivecards.io schema (type AdaptiveCard, version ≥ 1.4, known element types) inside
//   { type: "message", attachments: [{ contentType: "application/vnd.microsoft.card.adaptive" }] },
//   a message ≤ 28 KB.
// PagerDuty: developer.pagerduty.com Events API v2 (routing_key 32 chars; event_action trigger |
//   acknowledge | resolve; dedup_key ≤ 255; trigger needs payload.summary ≤ 1024, source,
//   severity critical | error | warning | info).

export type ChannelRequest = {
  platform: "slack" | "teams" | "pagerduty";
  path: string;
  body: any;
  raw: string;
  answered: number;
};

const SLACK_BLOCK_TYPES = new Set([
  "header",
  "section",
  "actions",
  "context",
  "divider",
  "image",
  "rich_text",
]);
const CARD_ELEMENTS = new Set([
  "TextBlock",
  "FactSet",
  "ColumnSet",
  "Container",
  "Image",
  "ActionSet",
  "RichTextBlock",
]);

const len = (s: unknown) => (typeof s === "string" ? [...s].length : -1);

export function slackViolations(b: any): string[] {
  const v: string[] = [];
  if (typeof b?.text !== "string" || !b.text) v.push("text: required fallback");
  const blocks = b?.blocks;
  if (!Array.isArray(blocks)) return [...v, "blocks: not an array"];
  if (blocks.length > 50) v.push(`blocks: ${blocks.length} > 50`);
  blocks.forEach((bl: any, i: number) => {
    const at = `blocks[${i}]`;
    if (!SLACK_BLOCK_TYPES.has(bl?.type)) v.push(`${at}: type ${bl?.type}`);
    if (bl.type === "header") {
      if (bl.text?.type !== "plain_text")
        v.push(`${at}: header not plain_text`);
      const n = len(bl.text?.text);
      if (n < 1 || n > 150) v.push(`${at}: header text length ${n}`);
    }
    if (bl.type === "section") {
      if (!bl.text && !bl.fields)
        v.push(`${at}: section without text or fields`);
      if (bl.text) {
        if (!["mrkdwn", "plain_text"].includes(bl.text.type))
          v.push(`${at}: text type ${bl.text.type}`);
        const n = len(bl.text.text);
        if (n < 1 || n > 3000) v.push(`${at}: section text length ${n}`);
      }
      if (bl.fields) {
        if (bl.fields.length > 10) v.push(`${at}: ${bl.fields.length} fields`);
        bl.fields.forEach((f: any, j: number) => {
          const n = len(f?.text);
          if (n < 1 || n > 2000) v.push(`${at}.fields[${j}]: length ${n}`);
        });
      }
    }
    if (bl.type === "actions") {
      if (!Array.isArray(bl.elements) || bl.elements.length > 25)
        v.push(`${at}: elements`);
      for (const e of bl.elements ?? []) {
        if (e.type !== "button") continue;
        if (e.text?.type !== "plain_text" || len(e.text?.text) > 75)
          v.push(`${at}: button text`);
        if (
          e.url !== undefined &&
          (len(e.url) > 3000 || !/^https?:\/\//.test(e.url))
        )
          v.push(`${at}: button url`);
        if (len(e.action_id) > 255) v.push(`${at}: action_id`);
        if (e.style && !["primary", "danger"].includes(e.style))
          v.push(`${at}: button style ${e.style}`);
      }
    }
    if (bl.type === "context" && (bl.elements?.length ?? 0) > 10)
      v.push(`${at}: context elements`);
  });
  return v;
}

export function teamsViolations(b: any, raw: string): string[] {
  const v: string[] = [];
  if (Buffer.byteLength(raw) > 28 * 1024) v.push("message over 28 KB");
  if (b?.type !== "message") v.push(`type ${b?.type}`);
  const a = b?.attachments;
  if (!Array.isArray(a) || a.length !== 1) return [...v, "attachments"];
  if (a[0].contentType !== "application/vnd.microsoft.card.adaptive")
    v.push(`contentType ${a[0].contentType}`);
  const c = a[0].content;
  if (c?.type !== "AdaptiveCard") v.push("content.type");
  const [maj, min] = String(c?.version ?? "")
    .split(".")
    .map(Number);
  if (!(maj! > 1 || (maj === 1 && min! >= 4))) v.push(`version ${c?.version}`);
  if (!Array.isArray(c?.body) || !c.body.length) v.push("body");
  for (const e of c?.body ?? []) {
    if (!CARD_ELEMENTS.has(e?.type)) v.push(`element ${e?.type}`);
    if (e.type === "TextBlock" && typeof e.text !== "string")
      v.push("TextBlock.text");
    if (e.type === "FactSet")
      for (const f of e.facts ?? [])
        if (typeof f.title !== "string" || typeof f.value !== "string")
          v.push("FactSet fact");
  }
  for (const act of c?.actions ?? []) {
    if (act.type !== "Action.OpenUrl") v.push(`action ${act.type}`);
    else if (!/^https?:\/\//.test(act.url ?? "")) v.push("Action.OpenUrl url");
  }
  return v;
}

const PD_SEVERITIES = ["critical", "error", "warning", "info"];
export function pagerdutyViolations(b: any): string[] {
  const v: string[] = [];
  if (!/^[A-Za-z0-9]{32}$/.test(b?.routing_key ?? "")) v.push("routing_key");
  if (!["trigger", "acknowledge", "resolve"].includes(b?.event_action))
    v.push(`event_action ${b?.event_action}`);
  if (b?.dedup_key !== undefined && len(b.dedup_key) > 255) v.push("dedup_key");
  if (b?.event_action !== "trigger" && !b?.dedup_key)
    v.push("dedup_key required to acknowledge or resolve");
  if (b?.event_action === "trigger") {
    const p = b.payload;
    const n = len(p?.summary);
    if (n < 1 || n > 1024) v.push(`payload.summary length ${n}`);
    if (len(p?.source) < 1) v.push("payload.source");
    if (!PD_SEVERITIES.includes(p?.severity))
      v.push(`payload.severity ${p?.severity}`);
    for (const k of ["component", "group", "class"])
      if (p?.[k] !== undefined && typeof p[k] !== "string")
        v.push(`payload.${k}`);
    for (const l of b.links ?? [])
      if (!/^https?:\/\//.test(l?.href ?? "")) v.push("links.href");
  }
  return v;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

// One server: /slack/…, /teams/…, and PagerDuty's /v2/enqueue.
export async function startChannelFakes() {
  const received: ChannelRequest[] = [];
  const violations: { path: string; problems: string[] }[] = [];
  const plans = new Map<string, Planned[]>();
  // PagerDuty's alerts by dedup_key: what an on-call person would be paged for
  const alerts = new Map<
    string,
    { status: "triggered" | "resolved"; triggers: number }
  >();
  let n = 0;

  const server = createServer(
    async (req: IncomingMessage, res: ServerResponse) => {
      const raw = await readBody(req);
      const path = req.url ?? "/";
      const platform = path.startsWith("/slack/")
        ? "slack"
        : path.startsWith("/teams/")
          ? "teams"
          : "pagerduty";
      let body: any = null;
      let problems: string[];
      try {
        body = JSON.parse(raw);
        problems =
          platform === "slack"
            ? slackViolations(body)
            : platform === "teams"
              ? teamsViolations(body, raw)
              : path === "/v2/enqueue"
                ? pagerdutyViolations(body)
                : [`no such path ${path}`];
      } catch {
        problems = ["body is not JSON"];
      }
      if (req.headers["content-type"] !== "application/json")
        problems.push(`content-type ${req.headers["content-type"]}`);
      if (problems.length) violations.push({ path, problems });
      const plan = plans.get(path)?.shift();
      let status: number;
      let answer: string;
      let headers: Record<string, string> = {};
      if (plan) {
        status = plan.status;
        answer = plan.body ?? `status ${plan.status}`;
        headers = plan.headers ?? {};
      } else if (problems.length) {
        status = 400;
        answer =
          platform === "pagerduty"
            ? JSON.stringify({
                status: "invalid event",
                message: "Event object is invalid",
                errors: problems,
              })
            : platform === "slack"
              ? "invalid_blocks"
              : "Bad payload";
      } else if (platform === "pagerduty") {
        status = 202;
        const key: string = body.dedup_key ?? `pd-${++n}`;
        const cur = alerts.get(key);
        if (body.event_action === "trigger")
          alerts.set(key, {
            status: "triggered",
            triggers: (cur?.status === "triggered" ? cur.triggers : 0) + 1,
          });
        else if (body.event_action === "resolve" && cur)
          cur.status = "resolved";
        answer = JSON.stringify({
          status: "success",
          message: "Event processed",
          dedup_key: key,
        });
      } else if (platform === "teams") {
        status = 202;
        answer = "";
      } else {
        status = 200;
        answer = "ok";
      }
      received.push({ platform, path, body, raw, answered: status });
      res.writeHead(status, {
        "content-type":
          platform === "slack" ? "text/plain" : "application/json",
        ...headers,
      });
      res.end(answer);
    },
  );
  server.keepAliveTimeout = 1;
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let paths = 0;
  return {
    base,
    received,
    violations,
    alerts,
    eventsUrl: `${base}/v2/enqueue`,
    // a Slack or Teams incoming-webhook URL of its own
    newUrl(platform: "slack" | "teams"): { url: string; path: string } {
      paths += 1;
      const path = `/${platform}/T0${paths}/B0${paths}/s3cr3t${paths}xyz`;
      return { url: base + path, path };
    },
    plan(path: string, list: Planned[]) {
      plans.set(path, [...(plans.get(path) ?? []), ...list]);
    },
    on(path: string) {
      return received.filter((r) => r.path === path);
    },
    pagerduty(routingKey?: string) {
      return received.filter(
        (r) =>
          r.platform === "pagerduty" &&
          (routingKey === undefined || r.body?.routing_key === routingKey),
      );
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type ChannelFakes = Awaited<ReturnType<typeof startChannelFakes>>;
