// Draws the Slack and Teams messages the renderers produced (as the fakes captured them) the way
// the platforms show them, closely enough to judge layout and content: a Block Kit preview
// (header, section text and fields, actions, context) and an Adaptive Card preview (TextBlock,
// FactSet, actions). Only what Poisonwatch's renderers use is drawn; anything else is shown as
// an "unsupported" box so a renderer change cannot go unnoticed in the screenshot.

const escHtml = (s: string) =>
  s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");

// mrkdwn: the text arrives with &, < and > already escaped (Slack's rule), so only the markup is
// turned into HTML: *bold*, _italic_, `code`, <url|text> links and newlines.
function mrkdwn(text: string): string {
  return text
    .replace(/"/g, "&quot;")
    .replace(/&lt;(https?:[^|&]+)\|([^&]+)&gt;/g, '<a href="$1">$2</a>')
    .replace(/`([^`\n]+)`/g, "<code>$1</code>")
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<b>$2</b>")
    .replace(/(^|[\s(])_([^_\n]+)_/g, "$1<i>$2</i>")
    .replace(/\n/g, "<br>");
}

const textOf = (t: { type: string; text: string } | undefined) =>
  !t ? "" : t.type === "mrkdwn" ? mrkdwn(t.text) : escHtml(t.text);

const page = (title: string, css: string, body: string) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escHtml(title)}</title><style>
body{margin:0;padding:24px;background:#f4f4f5;font:15px/1.46 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d1c1d}
.unsupported{border:2px dashed #c00;padding:6px;color:#c00;font-family:monospace}
${css}</style></head><body>${body}</body></html>`;

export function slackPreviewHtml(msg: { text: string; blocks: any[] }): string {
  const blocks = msg.blocks
    .map((b) => {
      switch (b.type) {
        case "header":
          return `<h1 class="header">${escHtml(b.text.text)}</h1>`;
        case "section":
          return `<section class="section">${
            b.text ? `<div>${textOf(b.text)}</div>` : ""
          }${
            b.fields?.length
              ? `<div class="fields">${b.fields
                  .map((f: any) => `<div>${textOf(f)}</div>`)
                  .join("")}</div>`
              : ""
          }</section>`;
        case "actions":
          return `<div class="actions">${b.elements
            .map(
              (e: any) =>
                `<a class="button ${e.style ?? ""}" href="${escHtml(e.url ?? "#")}">${escHtml(e.text.text)}</a>`,
            )
            .join("")}</div>`;
        case "context":
          return `<div class="context">${b.elements
            .map((e: any) => `<span>${textOf(e)}</span>`)
            .join(" ")}</div>`;
        case "divider":
          return "<hr>";
        default:
          return `<div class="unsupported">unsupported block ${escHtml(String(b.type))}</div>`;
      }
    })
    .join("");
  return page(
    "Slack preview",
    `.msg{max-width:680px;background:#fff;border:1px solid #ddd;border-radius:8px;padding:16px 20px;display:flex;gap:12px}
.avatar{width:36px;height:36px;border-radius:6px;background:#be123c;color:#fff;font-weight:700;display:flex;align-items:center;justify-content:center;flex:none}
.who{font-weight:900}.who small{font-weight:400;color:#616061;margin-left:6px}
.header{font-size:18px;font-weight:900;margin:6px 0}
.section{margin:6px 0}.fields{display:grid;grid-template-columns:1fr 1fr;gap:8px 16px;margin-top:8px}
.actions{margin:10px 0;display:flex;gap:8px}
.button{display:inline-block;padding:4px 12px;border-radius:4px;border:1px solid #bbb;color:#1d1c1d;font-weight:700;text-decoration:none}
.button.primary{background:#007a5a;color:#fff;border-color:#007a5a}.button.danger{background:#e01e5a;color:#fff;border-color:#e01e5a}
.context{color:#616061;font-size:13px}.fallback{margin-top:12px;color:#616061;font-size:12px}
code{background:#f6f6f6;border:1px solid #ddd;border-radius:3px;padding:0 3px;font-size:12px;color:#e01e5a}`,
    `<div class="msg"><div class="avatar">P</div><div><div class="who">Poisonwatch <small>APP</small></div>${blocks}
<div class="fallback">Notification text: ${escHtml(msg.text)}</div></div></div>`,
  );
}

const COLORS: Record<string, string> = {
  Attention: "#c4314b",
  Good: "#237b4b",
  Warning: "#835c00",
  Accent: "#4f52b2",
};

function cardElement(e: any): string {
  switch (e.type) {
    case "TextBlock": {
      const size =
        { Small: 12, Default: 14, Medium: 17, Large: 21, ExtraLarge: 26 }[
          e.size as string
        ] ?? 14;
      const style = [
        `font-size:${size}px`,
        e.weight === "Bolder" ? "font-weight:700" : "",
        e.color && COLORS[e.color] ? `color:${COLORS[e.color]}` : "",
        e.wrap
          ? "white-space:pre-wrap"
          : "white-space:nowrap;overflow:hidden;text-overflow:ellipsis",
        e.spacing === "Medium" ? "margin-top:14px" : "",
      ]
        .filter(Boolean)
        .join(";");
      return `<div class="tb" style="${style}">${escHtml(e.text)}</div>`;
    }
    case "FactSet":
      return `<table class="facts">${e.facts
        .map(
          (f: any) =>
            `<tr><th>${escHtml(f.title)}</th><td>${escHtml(f.value)}</td></tr>`,
        )
        .join("")}</table>`;
    case "Container":
      return `<div>${(e.items ?? []).map(cardElement).join("")}</div>`;
    default:
      return `<div class="unsupported">unsupported element ${escHtml(String(e.type))}</div>`;
  }
}

export function teamsPreviewHtml(msg: any): string {
  const card = msg.attachments[0].content;
  const actions = (card.actions ?? [])
    .map((a: any) =>
      a.type === "Action.OpenUrl"
        ? `<a class="action" href="${escHtml(a.url)}">${escHtml(a.title)}</a>`
        : `<div class="unsupported">unsupported action ${escHtml(String(a.type))}</div>`,
    )
    .join("");
  return page(
    "Teams preview",
    `body{font-family:"Segoe UI",-apple-system,Roboto,Arial,sans-serif;background:#f5f5f5;color:#242424}
.post{max-width:${card.msteams?.width === "Full" ? 760 : 560}px;background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.15);padding:12px 16px}
.who{font-size:13px;color:#616161;margin-bottom:8px}.who b{color:#242424}
.card{border:1px solid #e0e0e0;border-radius:4px;padding:14px}
.tb{margin-top:8px;line-height:1.4}.tb:first-child{margin-top:0}
.facts{border-collapse:collapse;margin-top:10px;font-size:14px}
.facts th{text-align:left;font-weight:600;padding:2px 16px 2px 0;vertical-align:top;white-space:nowrap}
.facts td{padding:2px 0}
.actions{display:flex;gap:8px;margin-top:14px}
.action{flex:1;text-align:center;border:1px solid #d1d1d1;border-radius:4px;padding:6px 12px;color:#4f52b2;font-weight:600;text-decoration:none}
.version{margin-top:8px;font-size:11px;color:#888}`,
    `<div class="post"><div class="who"><b>Poisonwatch</b> via Workflows</div><div class="card">${card.body
      .map(cardElement)
      .join(
        "",
      )}<div class="actions">${actions}</div></div><div class="version">Adaptive Card ${escHtml(String(card.version))}</div></div>`,
  );
}
