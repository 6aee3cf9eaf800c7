import { eq, sql } from "drizzle-orm";
import { parseAtomFeed } from "feedsmith";
import ICAL from "ical.js";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { feedTokens } from "@/db/schema";
import { hashToken, newSecretToken } from "@/server/auth-tokens";
import { now, setClock } from "@/server/clock";
import { INCIDENTS_FEED_SIZE } from "@/server/feeds/incidents-feed";
import { FEED_RATE, feedRateLimiter } from "@/server/http/routes/tenant-feeds";
import { api, fleet } from "../helpers/api";
import { memoryEvent } from "../helpers/events";
import { expectErrorBody } from "../helpers/security-world";

// Feed tokens and the two feeds (spec.md "Chat, paging and feeds"): the Atom feed read by a real
// Atom parser (feedsmith), the iCalendar feed by a real iCalendar library (ical.js).

const CE = "application/cloudevents+json";
type Fleet = Awaited<ReturnType<typeof fleet>>;

// iCalendar DATE-TIME has whole seconds
const toSecond = (iso: string) => `${iso.slice(0, 19)}.000Z`;

// XML 1.0 §2.2 Char: what a strict XML parser accepts anywhere in a document
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

beforeEach(() => feedRateLimiter.reset());
afterAll(() => setClock(undefined));

async function newFeedToken(f: Fleet): Promise<string> {
  const r = await api("POST", "/api/v1/feed-tokens", { token: f.apiKey });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body.token as string;
}

async function errorOn(f: Fleet, vmId = f.vmId, gpa?: string) {
  const r = await api("POST", "/api/v1/events", {
    token: f.hostToken,
    body: memoryEvent({
      hostId: f.hostId,
      vmId,
      time: now().toISOString(),
      ...(gpa ? { gpa } : {}),
    }),
    contentType: CE,
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function putVm(f: Fleet, vmId: string, name: string) {
  const r = await api("PUT", `/api/v1/admin/vms/${vmId}`, {
    token: f.op,
    body: {
      projectId: f.projectId,
      name,
      zone: "zone-a",
      hostId: f.hostId,
      placedAt: "2020-01-01T00:00:00Z",
    },
  });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

async function atom(token: string) {
  const r = await api(
    "GET",
    `/api/v1/feeds/incidents.atom?token=${encodeURIComponent(token)}`,
  );
  expect(r.status, String(r.body)).toBe(200);
  expect(r.headers.get("content-type")).toBe(
    "application/atom+xml; charset=utf-8",
  );
  const xml = r.body as string;
  expect(NOT_XML_CHAR.exec(xml), "a character XML 1.0 forbids").toBeNull();
  return { xml, feed: parseAtomFeed(xml) };
}

async function calendar(token: string) {
  const r = await api(
    "GET",
    `/api/v1/feeds/evacuations.ics?token=${encodeURIComponent(token)}`,
  );
  expect(r.status, String(r.body)).toBe(200);
  expect(r.headers.get("content-type")).toBe("text/calendar; charset=utf-8");
  const text = r.body as string;
  // §3.1: CRLF line ends, no line over 75 octets
  expect(text.endsWith("\r\n")).toBe(true);
  const lines = text.slice(0, -2).split("\r\n");
  for (const l of lines) {
    expect(l, "a bare LF or CR").not.toMatch(/[\r\n]/);
    expect(Buffer.byteLength(l, "utf8"), l).toBeLessThanOrEqual(75);
  }
  const cal = new ICAL.Component(ICAL.parse(text));
  const events = new Map(
    cal.getAllSubcomponents("vevent").map((v) => [
      String(v.getFirstPropertyValue("uid")),
      {
        v,
        event: new ICAL.Event(v),
        status: String(v.getFirstPropertyValue("status")),
        sequence: Number(v.getFirstPropertyValue("sequence")),
      },
    ]),
  );
  return { text, lines, cal, events };
}

describe("feed tokens", () => {
  it("are made (the token answered once), listed without the token, kept only as a hash, and revoked at once", async () => {
    const f = await fleet();
    const made = await api("POST", "/api/v1/feed-tokens", { token: f.apiKey });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(Object.keys(made.body).sort()).toEqual(["createdAt", "id", "token"]);
    expect(made.body.id).toMatch(/^fdt_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(made.body.token).toMatch(/^pwf_[A-Za-z0-9_-]{43}$/);
    expect(made.body.createdAt).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    );

    const list = await api("GET", "/api/v1/feed-tokens", { token: f.apiKey });
    expect(list.status).toBe(200);
    expect(list.body).toEqual({
      data: [
        { id: made.body.id, createdAt: made.body.createdAt, lastUsedAt: null },
      ],
      nextCursor: null,
    });

    const db = await getDb();
    const [row] = await db
      .select()
      .from(feedTokens)
      .where(eq(feedTokens.id, made.body.id));
    expect(row!.tokenHash).toBe(hashToken(made.body.token));
    const holders = await rawRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from feed_tokens x where x::text like ${`%${made.body.token}%`}`,
    );
    expect(holders[0]!.n).toBe(0);

    // a read records lastUsedAt
    await atom(made.body.token);
    const used = await api("GET", "/api/v1/feed-tokens", { token: f.apiKey });
    expect(used.body.data[0].lastUsedAt).toEqual(expect.any(String));

    const del = await api("DELETE", `/api/v1/feed-tokens/${made.body.id}`, {
      token: f.apiKey,
    });
    expect(del.status).toBe(204);
    for (const path of [
      "/api/v1/feeds/incidents.atom",
      "/api/v1/feeds/evacuations.ics",
    ]) {
      const r = await api("GET", `${path}?token=${made.body.token}`);
      expect(r.status, path).toBe(401);
      expectErrorBody(r.status, r.body, `${path} with a revoked token`);
      expect(r.body.error.code).toBe("unauthorized");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
    }
    expect(
      (await api("GET", "/api/v1/feed-tokens", { token: f.apiKey })).body.data,
    ).toEqual([]);
    // revoking twice, or an id that is no token of this tenant: 404
    const again = await api("DELETE", `/api/v1/feed-tokens/${made.body.id}`, {
      token: f.apiKey,
    });
    expect(again.status).toBe(404);
    expectErrorBody(again.status, again.body, "second revoke");
  });

  it("a wrong, missing or other kind of credential is refused in the house error shape", async () => {
    const f = await fleet();
    const token = await newFeedToken(f);
    const cases: [string, Record<string, string>, number, string][] = [
      ["/api/v1/feeds/incidents.atom", {}, 401, "unauthorized"],
      ["/api/v1/feeds/incidents.atom?token=", {}, 401, "unauthorized"],
      [
        `/api/v1/feeds/incidents.atom?token=${newSecretToken("feed")}`,
        {},
        401,
        "unauthorized",
      ],
      [
        `/api/v1/feeds/evacuations.ics?token=${token}x`,
        {},
        401,
        "unauthorized",
      ],
      [
        `/api/v1/feeds/evacuations.ics?token=${hashToken(token)}`,
        {},
        401,
        "unauthorized",
      ],
      // the tenant's API key is no feed token, and a feed token is no API key
      [`/api/v1/feeds/incidents.atom?token=${f.apiKey}`, {}, 403, "forbidden"],
      [
        "/api/v1/feeds/incidents.atom",
        { authorization: `Bearer ${f.apiKey}` },
        403,
        "forbidden",
      ],
      [
        "/api/v1/incidents",
        { authorization: `Bearer ${token}` },
        403,
        "forbidden",
      ],
      [`/api/v1/incidents?token=${token}`, {}, 401, "unauthorized"],
      [
        "/api/v1/feed-tokens",
        { authorization: `Bearer ${token}` },
        403,
        "forbidden",
      ],
    ];
    for (const [path, headers, status, code] of cases) {
      const r = await api("GET", path, { headers });
      expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(status);
      expectErrorBody(r.status, r.body, path);
      expect(r.body.error.code, path).toBe(code);
    }
    // the bearer form works too, for readers that can send headers
    const viaHeader = await api("GET", "/api/v1/feeds/incidents.atom", {
      token,
    });
    expect(viaHeader.status).toBe(200);
  });

  it("are rate-limited per token with Retry-After", async () => {
    const f = await fleet();
    const token = await newFeedToken(f);
    const other = await newFeedToken(f);
    for (let i = 0; i < FEED_RATE.capacity; i++)
      expect(
        (await api("GET", `/api/v1/feeds/evacuations.ics?token=${token}`))
          .status,
      ).toBe(200);
    const r = await api("GET", `/api/v1/feeds/evacuations.ics?token=${token}`);
    expect(r.status).toBe(429);
    expectErrorBody(r.status, r.body, "over the rate");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // another token of the same tenant is not held back
    expect(
      (await api("GET", `/api/v1/feeds/incidents.atom?token=${other}`)).status,
    ).toBe(200);
  });
});

describe("GET /api/v1/feeds/incidents.atom", () => {
  it("is Atom 1.0 that a real parser reads: one entry per incident, stable ids, escaped names", async () => {
    const f = await fleet();
    const token = await newFeedToken(f);
    const empty = await atom(token);
    expect(empty.feed.entries ?? []).toEqual([]);
    expect(empty.feed.id).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);

    const evil = `evil <b>&amp;</b> "q" 'a' \u0001\u001b\u0008 end`;
    const vmId = `${f.vmId}-x`;
    await putVm(f, vmId, evil);
    await errorOn(f);
    await errorOn(f, vmId);
    const incidents = (
      await api("GET", "/api/v1/incidents", { token: f.apiKey })
    ).body.data as {
      id: string;
      vmId: string;
      updatedAt: string;
      openedAt: string;
    }[];
    expect(incidents).toHaveLength(2);

    const { xml, feed } = await atom(token);
    expect(xml).toContain(
      "&lt;b&gt;&amp;amp;&lt;/b&gt; &quot;q&quot; &apos;a&apos;",
    );
    expect(feed.title?.value).toBe(
      `Poisonwatch incidents — Tenant ${f.tenantId}`,
    );
    expect(feed.entries).toHaveLength(2);
    const byLink = new Map(
      feed.entries!.map((e) => [
        e.links!.find((l) => l.rel === "alternate")!.href,
        e,
      ]),
    );
    for (const i of incidents) {
      const e = byLink.get(`http://localhost:3000/incidents/${i.id}`);
      expect(e, i.id).toBeDefined();
      expect(e!.id).toMatch(
        /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(e!.updated).toBe(i.updatedAt);
      expect(e!.published).toBe(i.openedAt);
      expect(e!.summary?.value).toContain(
        "CRITICAL, open: 1 memory error on 1 distinct page",
      );
      expect(e!.content?.type).toBe("html");
      expect(e!.content?.value).toContain(
        `<a href="http://localhost:3000/incidents/${i.id}">`,
      );
      expect(e!.categories?.map((c) => c.term)).toEqual(["CRITICAL", "open"]);
    }
    const bad = incidents.find((i) => i.vmId === vmId)!;
    const entry = byLink.get(`http://localhost:3000/incidents/${bad.id}`)!;
    // the name survives exactly, but for the control characters XML cannot carry
    expect(entry.title?.value).toBe(
      `evil <b>&amp;</b> "q" 'a' \uFFFD\uFFFD\uFFFD end — memory error in a user process`,
    );
    // HTML content: the name is escaped once more inside it, so no markup of it survives
    expect(entry.content?.value).toContain("evil &lt;b&gt;&amp;amp;&lt;/b&gt;");
    expect(entry.content?.value).not.toContain("<b>");

    // the feed's updated is its newest entry's; ids never change between reads
    expect(feed.updated).toBe(
      incidents
        .map((i) => i.updatedAt)
        .sort()
        .at(-1),
    );
    const again = await atom(token);
    expect(again.feed.entries!.map((e) => e.id).sort()).toEqual(
      feed.entries!.map((e) => e.id).sort(),
    );
  });

  it("updates an entry as its incident changes, and holds the newest 50", async () => {
    const f = await fleet();
    const token = await newFeedToken(f);
    const T0 = new Date(Date.now() - 3600_000);
    setClock(() => T0);
    try {
      await errorOn(f);
      const first = (await atom(token)).feed.entries![0]!;
      setClock(() => new Date(T0.getTime() + 60_000));
      await errorOn(f, f.vmId, "0x0000000133400000");
      const second = (await atom(token)).feed.entries![0]!;
      expect(second.id).toBe(first.id);
      expect(Date.parse(second.updated!)).toBeGreaterThan(
        Date.parse(first.updated!),
      );
      expect(second.summary?.value).toContain(
        "2 memory errors on 2 distinct pages",
      );
    } finally {
      setClock(undefined);
    }

    // more incidents than the feed holds: the newest 50 by openedAt
    const extra = INCIDENTS_FEED_SIZE;
    const ids: string[] = [];
    for (let i = 0; i < extra; i++) {
      const vmId = `${f.vmId}-n${i}`;
      await putVm(f, vmId, `n-${i}`);
      ids.push(vmId);
    }
    const batch = ids.map((vmId) => memoryEvent({ hostId: f.hostId, vmId }));
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: batch,
      contentType: "application/cloudevents-batch+json",
    });
    expect(r.body.accepted, JSON.stringify(r.body).slice(0, 300)).toBe(extra);
    const { feed } = await atom(token);
    expect(feed.entries).toHaveLength(INCIDENTS_FEED_SIZE);
    // the first VM's incident opened an hour earlier: it is the one left out
    expect(
      feed.entries!.some((e) => e.title?.value?.startsWith("web-1 ")),
    ).toBe(false);
  });
});

describe("GET /api/v1/feeds/evacuations.ics", () => {
  it("is iCalendar that ical.js reads: UID, DTSTART, SEQUENCE raised at each reschedule, STATUS:CANCELLED", async () => {
    const f = await fleet();
    const token = await newFeedToken(f);
    const name = "db,1;x\\y\nz <&> ünïcödé-" + "ä".repeat(40);
    await putVm(f, f.vmId, name);
    await errorOn(f);
    const incidentId = (
      await api("GET", "/api/v1/incidents", { token: f.apiKey })
    ).body.data[0].id as string;

    const empty = await calendar(token);
    expect(empty.lines.slice(0, 3)).toEqual([
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//Poisonwatch//Evacuations feed 1.0//EN",
    ]);
    expect(empty.events.size).toBe(0);

    const ev = await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
      token: f.op,
      body: {},
    });
    expect(ev.status, JSON.stringify(ev.body)).toBe(202);
    const evacuationId = ev.body.evacuationId as string;
    const brief = async () =>
      (await api("GET", `/api/v1/incidents/${incidentId}`, { token: f.apiKey }))
        .body.evacuation as {
        scheduledFor: string;
        deadline: string;
        requestedAt: string;
      };

    const one = await calendar(token);
    expect(one.cal.getFirstPropertyValue("version")).toBe("2.0");
    const e1 = one.events.get(evacuationId)!;
    expect(e1, [...one.events.keys()].join()).toBeDefined();
    expect(e1.sequence).toBe(0);
    expect(e1.status).toBe("CONFIRMED");
    expect(e1.event.startDate.toJSDate().toISOString()).toBe(
      toSecond((await brief()).scheduledFor),
    );
    expect(e1.event.startDate.zone?.tzid).toBe("UTC");
    expect(e1.event.duration.toSeconds()).toBe(15 * 60);
    // TEXT escaping (,;\ and the line break) undone by the parser: the name comes back whole
    expect(e1.event.summary).toBe(`Restart of ${name} on a healthy host`);
    expect(e1.event.description).toContain(`VM ${name} (${f.vmId}`);
    expect(one.text).toContain("db\\,1\\;x\\\\y\\nz");
    expect(String(e1.v.getFirstPropertyValue("url"))).toBe(
      `http://localhost:3000/incidents/${incidentId}`,
    );
    // DTSTAMP: the last change, here the request (its row, then its audit entry)
    const stampOf = (v: ICAL.Component) =>
      (v.getFirstPropertyValue("dtstamp") as ICAL.Time).toJSDate().getTime();
    const stamp1 = stampOf(e1.v);
    expect(stamp1).toBeGreaterThanOrEqual(
      Date.parse(toSecond((await brief()).requestedAt)),
    );
    expect(stamp1).toBeLessThanOrEqual(Date.now());
    // the long summary was folded, and no fold split a UTF-8 character
    expect(one.lines.some((l) => l.startsWith(" "))).toBe(true);

    // the tenant defers: a new DTSTART and SEQUENCE 1, then 2
    const scheduledFor = Date.parse((await brief()).scheduledFor);
    for (const [n, hours] of [
      [1, 1],
      [2, 2],
    ] as const) {
      const until = new Date(scheduledFor + hours * 3600_000).toISOString();
      const d = await api(
        "POST",
        `/api/v1/incidents/${incidentId}/evacuation/defer`,
        { token: f.apiKey, body: { until } },
      );
      expect(d.status, JSON.stringify(d.body)).toBe(200);
      const e = (await calendar(token)).events.get(evacuationId)!;
      expect(e.sequence).toBe(n);
      expect(e.event.startDate.toJSDate().toISOString()).toBe(toSecond(until));
      expect(e.status).toBe("CONFIRMED");
      expect(e.event.description).toContain(`Rescheduled ${n} time`);
      expect(stampOf(e.v)).toBeGreaterThanOrEqual(stamp1);
    }

    // the operator cancels: STATUS:CANCELLED, same UID, the same SEQUENCE (DTSTART did not move)
    const c = await api("DELETE", `/api/v1/admin/evacuations/${evacuationId}`, {
      token: f.op,
    });
    expect(c.status, JSON.stringify(c.body)).toBe(200);
    const cancelled = await calendar(token);
    const e3 = cancelled.events.get(evacuationId)!;
    expect(e3.status).toBe("CANCELLED");
    expect(e3.sequence).toBe(2);
    expect(e3.event.summary).toBe(
      `Cancelled: restart of ${name} on a healthy host`,
    );
    expect(cancelled.events.size).toBe(1);
  });
});

describe("tenant isolation", () => {
  it("tenant A's token never shows tenant B's incidents or evacuations, and A cannot revoke B's token", async () => {
    const A = await fleet();
    const B = await fleet();
    await putVm(B, B.vmId, "b-secret-vm");
    await errorOn(A);
    await errorOn(B);
    const evB = await api("POST", `/api/v1/admin/vms/${B.vmId}/evacuate`, {
      token: B.op,
      body: {},
    });
    const evA = await api("POST", `/api/v1/admin/vms/${A.vmId}/evacuate`, {
      token: A.op,
      body: {},
    });
    const incB = (await api("GET", "/api/v1/incidents", { token: B.apiKey }))
      .body.data[0].id as string;
    const tokenA = await newFeedToken(A);
    const tokenB = await api("POST", "/api/v1/feed-tokens", {
      token: B.apiKey,
    });

    const a1 = await atom(tokenA);
    const a2 = await calendar(tokenA);
    for (const text of [a1.xml, a2.text]) {
      for (const v of [
        B.tenantId,
        B.vmId,
        B.projectId,
        "b-secret-vm",
        incB,
        evB.body.evacuationId,
      ])
        expect(text).not.toContain(v);
    }
    expect(a1.feed.entries).toHaveLength(1);
    expect([...a2.events.keys()]).toEqual([evA.body.evacuationId]);

    const list = await api("GET", "/api/v1/feed-tokens", { token: A.apiKey });
    expect(list.body.data.map((t: { id: string }) => t.id)).not.toContain(
      tokenB.body.id,
    );
    const del = await api("DELETE", `/api/v1/feed-tokens/${tokenB.body.id}`, {
      token: A.apiKey,
    });
    expect(del.status).toBe(404);
    expect(
      (
        await api(
          "GET",
          `/api/v1/feeds/incidents.atom?token=${tokenB.body.token}`,
        )
      ).status,
    ).toBe(200);
  });
});
