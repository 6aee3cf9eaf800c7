// iCalendar (RFC 5545) writing. Pure: the loader (evacuations-feed.ts) hands over plain values.

// TEXT values (§3.3.11): backslash, semicolon and comma escaped, every line break as \n; control
// characters, which TEXT cannot hold, and lone surrogates, which UTF-8 cannot, become U+FFFD.
export function icsText(s: string): string {
  return s
    .replace(/\r\n|\r|\n/g, "\n")
    .replace(/[\x00-\x08\x0B-\x1F\x7F]|[\uD800-\uDFFF]/gu, "\uFFFD")
    .replace(/\\/g, "\\\\")
    .replace(/;/g, "\\;")
    .replace(/,/g, "\\,")
    .replace(/\n/g, "\\n");
}

// §3.1: a content line longer than 75 octets is folded (CRLF and one space), never inside a
// UTF-8 sequence; the space counts toward the 75 octets of its line.
export function foldLine(line: string): string {
  const parts: string[] = [];
  let cur = "";
  let octets = 0;
  let limit = 75;
  for (const ch of line) {
    const n = Buffer.byteLength(ch, "utf8");
    if (octets + n > limit) {
      parts.push(cur);
      cur = "";
      octets = 0;
      limit = 74;
    }
    cur += ch;
    octets += n;
  }
  parts.push(cur);
  return parts.join("\r\n ");
}

// 20261207T120000Z: DATE-TIME in UTC (§3.3.5, form #2)
export function icsDateTime(d: Date): string {
  return d
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

export type IcsEvent = {
  uid: string;
  stamp: Date;
  created: Date;
  start: Date;
  durationMinutes: number;
  sequence: number;
  status: "CONFIRMED" | "CANCELLED";
  summary: string;
  description: string;
  url: string;
  categories: string[];
};

export type IcsCalendar = {
  name: string;
  description: string;
  refreshMinutes: number;
  events: IcsEvent[];
};

export const PRODID = "-//Poisonwatch//Evacuations feed 1.0//EN";

export function renderCalendar(cal: IcsCalendar): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    `PRODID:${PRODID}`,
    "CALSCALE:GREGORIAN",
    // RFC 7986 names and refresh hints, and the older X- forms most clients still read
    `NAME:${icsText(cal.name)}`,
    `X-WR-CALNAME:${icsText(cal.name)}`,
    `DESCRIPTION:${icsText(cal.description)}`,
    `REFRESH-INTERVAL;VALUE=DURATION:PT${cal.refreshMinutes}M`,
    `X-PUBLISHED-TTL:PT${cal.refreshMinutes}M`,
  ];
  for (const e of cal.events) {
    lines.push(
      "BEGIN:VEVENT",
      `UID:${icsText(e.uid)}`,
      `DTSTAMP:${icsDateTime(e.stamp)}`,
      `CREATED:${icsDateTime(e.created)}`,
      `LAST-MODIFIED:${icsDateTime(e.stamp)}`,
      `DTSTART:${icsDateTime(e.start)}`,
      `DURATION:PT${e.durationMinutes}M`,
      `SEQUENCE:${e.sequence}`,
      `STATUS:${e.status}`,
      `SUMMARY:${icsText(e.summary)}`,
      `DESCRIPTION:${icsText(e.description)}`,
      `URL:${e.url}`,
      ...(e.categories.length
        ? [`CATEGORIES:${e.categories.map(icsText).join(",")}`]
        : []),
      // a restart takes none of the reader's own time
      "TRANSP:TRANSPARENT",
      "END:VEVENT",
    );
  }
  lines.push("END:VCALENDAR");
  return lines.map(foldLine).join("\r\n") + "\r\n";
}
