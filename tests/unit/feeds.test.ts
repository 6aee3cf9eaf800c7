import { describe, expect, it } from "vitest";
import { htmlText, urnUuid, xmlText } from "@/server/feeds/atom";
import { foldLine, icsDateTime, icsText } from "@/server/feeds/icalendar";

// The byte-level rules of the feeds, which a parser may forgive but a strict reader does not.

describe("iCalendar line folding (RFC 5545 §3.1)", () => {
  const unfold = (s: string) => s.replace(/\r\n /g, "");

  it("leaves a line of 75 octets alone and folds the 76th octet onto a line starting with a space", () => {
    const line = `SUMMARY:${"x".repeat(75 - 8)}`;
    expect(foldLine(line)).toBe(line);
    const longer = `${line}y`;
    expect(foldLine(longer)).toBe(`${line}\r\n y`);
  });

  it("never splits a UTF-8 sequence, keeps every line within 75 octets, and unfolds to the original", () => {
    for (const ch of ["ä", "€", "😀", "a"]) {
      const line = `DESCRIPTION:${ch.repeat(200)}`;
      const folded = foldLine(line);
      for (const l of folded.split("\r\n")) {
        expect(Buffer.byteLength(l, "utf8")).toBeLessThanOrEqual(75);
        // a cut inside a sequence would leave a replacement character after a round trip
        expect(Buffer.from(l, "utf8").toString("utf8")).toBe(l);
      }
      expect(unfold(folded)).toBe(line);
      expect(
        folded
          .split("\r\n")
          .slice(1)
          .every((l) => l.startsWith(" ")),
      ).toBe(true);
    }
  });
});

describe("iCalendar TEXT escaping (§3.3.11)", () => {
  it("escapes backslash, semicolon, comma and every kind of line break", () => {
    expect(icsText("a\\b;c,d\ne\r\nf\rg")).toBe("a\\\\b\\;c\\,d\\ne\\nf\\ng");
  });
  it("replaces control characters, which TEXT cannot hold", () => {
    expect(icsText("a\u0001b\u007fc\td")).toBe("a\uFFFDb\uFFFDc\td");
  });
  it("writes DATE-TIME in UTC with whole seconds", () => {
    expect(icsDateTime(new Date("2026-03-02T12:00:05.999Z"))).toBe(
      "20260302T120005Z",
    );
  });
});

describe("Atom text", () => {
  it("escapes the five XML specials and replaces characters XML 1.0 forbids", () => {
    expect(xmlText(`<&>"'`)).toBe("&lt;&amp;&gt;&quot;&apos;");
    expect(xmlText("a\u0000b\u0008c\u000bd\uFFFEe\uD800f\tg\n😀")).toBe(
      "a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\tg\n😀",
    );
  });
  it("escapes HTML before it is carried as text", () => {
    expect(xmlText(`<p>${htmlText(`<b>"x" & 'y'</b>`)}</p>`)).toBe(
      "&lt;p&gt;&amp;lt;b&amp;gt;&amp;quot;x&amp;quot; &amp;amp; &amp;#39;y&amp;#39;&amp;lt;/b&amp;gt;&lt;/p&gt;",
    );
  });
  it("makes stable version-5 UUID URNs", () => {
    const a = urnUuid("incident:inc_01");
    expect(a).toMatch(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(urnUuid("incident:inc_01")).toBe(a);
    expect(urnUuid("incident:inc_02")).not.toBe(a);
  });
});
