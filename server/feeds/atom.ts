import { createHash } from "node:crypto";

// Atom 1.0 (RFC 4287) writing. Pure: the loader (incidents-feed.ts) hands over plain values.

// Characters XML 1.0 does not allow anywhere (C0 controls but tab, LF, CR; lone surrogates;
// U+FFFE/U+FFFF) become U+FFFD: a VM name is operator data and may hold anything.
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function xmlText(s: string): string {
  return s
    .replace(NOT_XML_CHAR, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

// For HTML that is then carried as escaped text in <content type="html">.
export function htmlText(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

// Stable ids that do not depend on PUBLIC_URL: name-based UUIDs (RFC 9562 version 5) in
// Poisonwatch's own namespace, so a reader never sees an entry twice after a move.
const NAMESPACE = Buffer.from("c90cb525ff0a403bb7b4f69d911c20d6", "hex");

export function urnUuid(name: string): string {
  const h = createHash("sha1").update(NAMESPACE).update(name).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `urn:uuid:${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export type AtomEntry = {
  id: string;
  title: string;
  updated: Date;
  published: Date;
  link: string;
  categories: string[];
  summary: string;
  // HTML, escaped again when written
  contentHtml: string;
};

export type AtomFeed = {
  id: string;
  title: string;
  subtitle: string;
  updated: Date;
  link: string;
  generatorVersion: string;
  entries: AtomEntry[];
};

const el = (name: string, value: string, attrs = "") =>
  `<${name}${attrs}>${xmlText(value)}</${name}>`;

export function renderAtom(feed: AtomFeed): string {
  const out = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  ${el("id", feed.id)}`,
    `  ${el("title", feed.title, ' type="text"')}`,
    `  ${el("subtitle", feed.subtitle, ' type="text"')}`,
    `  ${el("updated", feed.updated.toISOString())}`,
    `  <link rel="alternate" type="text/html" href="${xmlText(feed.link)}"/>`,
    `  <author><name>Poisonwatch</name></author>`,
    `  ${el("generator", "Poisonwatch", ` version="${xmlText(feed.generatorVersion)}"`)}`,
  ];
  for (const e of feed.entries) {
    out.push(
      "  <entry>",
      `    ${el("id", e.id)}`,
      `    ${el("title", e.title, ' type="text"')}`,
      `    ${el("updated", e.updated.toISOString())}`,
      `    ${el("published", e.published.toISOString())}`,
      `    <link rel="alternate" type="text/html" href="${xmlText(e.link)}"/>`,
      ...e.categories.map((c) => `    <category term="${xmlText(c)}"/>`),
      `    ${el("summary", e.summary, ' type="text"')}`,
      `    ${el("content", e.contentHtml, ' type="html"')}`,
      "  </entry>",
    );
  }
  out.push("</feed>", "");
  return out.join("\n");
}
