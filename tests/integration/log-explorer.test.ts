import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { setClock } from "@/server/clock";
import {
  countLogEntriesOverTime,
  exportLogEntries,
  listLogEntries,
  logEntryPage,
} from "@/server/incidents/log-entries";
import { api, fleet } from "../helpers/api";
import { gpaOf, memoryEvent } from "../helpers/events";
import { callerFor, expectTRPCError } from "../helpers/trpc";

// One tenant with three kinds of entries an hour apart, and a second tenant with the same words.
async function world() {
  const f = await fleet({ vms: 2 });
  const base = Math.floor(Date.now() / 3600_000) * 3600_000 - 5 * 3600_000;
  const at = (h: number) => new Date(base + h * 3600_000).toISOString();
  const evs = [
    memoryEvent({
      hostId: f.hostId,
      vmId: f.vmIds[0]!,
      gpa: gpaOf(1),
      time: at(0),
    }),
    memoryEvent({
      hostId: f.hostId,
      vmId: f.vmIds[1]!,
      mechanism: "sigbus",
      sigbusCode: "BUS_MCEERR_AO",
      gpa: gpaOf(2),
      time: at(1),
    }),
    memoryEvent({
      hostId: f.hostId,
      vmId: f.vmIds[0]!,
      mechanism: "qemu_memory_failure",
      time: at(2),
    }),
  ];
  const r = await api("POST", "/api/v1/events", {
    token: f.hostToken,
    body: evs,
    contentType: "application/cloudevents-batch+json",
  });
  expect(r.body.accepted, JSON.stringify(r.body)).toBe(3);
  const other = await fleet();
  await api("POST", "/api/v1/events", {
    token: other.hostToken,
    body: memoryEvent({
      hostId: other.hostId,
      vmId: other.vmId,
      gpa: gpaOf(1),
      time: at(0),
    }),
  });
  const db = await getDb();
  return { f, other, at, ctx: { db, tenantId: f.tenantId } };
}

const ids = (xs: { resource: { labels: { vmId: string } } }[]) =>
  xs.map((x) => x.resource.labels.vmId);

describe("log explorer: search and field filters", () => {
  it("finds entries by words of the message and fields, by prefix, with phrases and negation", async () => {
    const { f, ctx } = await world();
    const q = (text: string) =>
      listLogEntries(ctx, { limit: 50, q: text }).then((r) => r.data.length);
    expect(await q("uncorrectable")).toBe(3);
    expect(await q("UNCORRECT")).toBe(3); // any case, a prefix
    expect(await q("kvm_exit_arm")).toBe(1); // a field value, cut like the entry was
    expect(await q("sigbus")).toBe(1);
    expect(await q("dabt")).toBe(1); // the decoded ESR's class name
    expect(await q("web-2")).toBe(1); // the VM name in the message
    expect(await q("uncorrectable -sigbus")).toBe(2);
    expect(await q("zzzz-nothing")).toBe(0);
    expect(await q("'\"()&|!:*")).toBe(3); // no words: no text condition, never a syntax error
    // the REST list takes the same filter
    const r = await api("GET", "/api/v1/log-entries?q=kvm_exit_arm_sea", {
      token: f.apiKey,
    });
    expect(r.status).toBe(200);
    expect(r.body.data).toHaveLength(1);
    expect(r.body.data[0].jsonPayload.mechanism).toBe("kvm_exit_arm_sea");
  });

  it("filters by mechanism, consumed and address (gpa or gva, any width of hex)", async () => {
    const { f, ctx } = await world();
    const list = (q: Record<string, string>) =>
      listLogEntries(ctx, { limit: 50, ...q }).then((r) => r.data);
    expect(ids(await list({ mechanism: "sigbus" }))).toEqual([f.vmIds[1]]);
    const notConsumed = await list({ consumed: "false" });
    expect(notConsumed).toHaveLength(1);
    expect(notConsumed[0]!.severity).toBe("WARNING");
    expect(await list({ consumed: "true" })).toHaveLength(2);
    // 0x100001000 is gpaOf(1) without its leading zeros
    expect(ids(await list({ address: "0x100001000" }))).toEqual([f.vmIds[0]]);
    expect(await list({ address: "0x0000ffff9a2b3c40" })).toHaveLength(1); // the gva
    expect(await list({ address: "0x1" })).toHaveLength(0);
    const bad = await api(
      "GET",
      "/api/v1/log-entries?address=12ab&mechanism=nope&consumed=yes",
      { token: f.apiKey },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
    expect(
      bad.body.error.details.map((d: { path: string }) => d.path).sort(),
    ).toEqual(["query.address", "query.consumed", "query.mechanism"]);
  });

  it("pages a search with the keyset cursor, newest first, without repeats", async () => {
    const { ctx } = await world();
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const p = await listLogEntries(ctx, { limit: 1, q: "memory", cursor });
      seen.push(...p.data.map((e) => e.timestamp));
      cursor = p.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toHaveLength(3);
    expect([...seen].sort().reverse()).toEqual(seen);
  });
});

describe("log explorer: how a search is run", () => {
  it("reading entries in order and going through the index give the same pages", async () => {
    const { ctx } = await world();
    for (const q of [
      { q: "uncorrectable" },
      { q: "memory -sigbus" },
      { q: "sigbus or kvm_exit" },
      { q: '"web-2"' },
      { q: "zzzz-nothing" },
      { q: "page", address: "0x100001000" },
      { q: "uncorrect", consumed: "true" as const },
    ]) {
      for (const limit of [1, 50]) {
        const pages = async (plan: "walk" | "index") => {
          const seen: string[] = [];
          let cursor: string | undefined;
          do {
            const p = await logEntryPage(ctx, q, limit, cursor, plan);
            seen.push(...p.data.map((e) => e.id));
            cursor = p.nextCursor ?? undefined;
          } while (cursor);
          return seen;
        };
        const walk = await pages("walk");
        expect(await pages("index"), JSON.stringify(q)).toEqual(walk);
        expect(
          (await listLogEntries(ctx, { limit: 50, ...q })).data.map(
            (e) => e.insertId,
          ),
        ).toEqual(walk.slice(0, 50));
      }
    }
  });
});

describe("log explorer: the search index", () => {
  // db/schema/events.ts: a full pending list is merged by the insert that finds it, and embedded
  // that insert holds every other statement; the migration sets it without rebuilding the index
  it("keeps new entries in a pending list of 256 kB, not PostgreSQL's 4 MB", async () => {
    const [row] = await rawRows<{ o: string[] | null }>(
      await getDb(),
      sql`select reloptions::text[] as o from pg_class where relname = 'log_entries_search_idx'`,
    );
    expect(row?.o).toEqual(["gin_pending_list_limit=256"]);
  });
});

describe("log explorer: the chart", () => {
  it("counts the matching entries per bar over the range; bars tile it exactly", async () => {
    const { ctx, at } = await world();
    const h = await countLogEntriesOverTime(
      { ...ctx, now: new Date(at(6)) },
      { since: at(-1), until: at(5) },
    );
    expect(h.barSeconds).toBe(900); // 6 h in bars of at most 60: 15 minutes
    expect(h.total).toBe(3);
    expect(h.bars[0]!.start).toBe(h.since);
    expect(h.bars.at(-1)!.end).toBe(h.until);
    for (let i = 1; i < h.bars.length; i++)
      expect(h.bars[i]!.start).toBe(h.bars[i - 1]!.end);
    const hit = h.bars.filter((b) => b.count > 0);
    expect(hit.map((b) => b.start)).toEqual([at(0), at(1), at(2)]);
    // a bar's range, listed, is exactly its count
    for (const b of hit) {
      const l = await listLogEntries(ctx, {
        limit: 50,
        since: b.start,
        until: b.end,
      });
      expect(l.data).toHaveLength(b.count);
    }
    const filtered = await countLogEntriesOverTime(
      { ...ctx, now: new Date(at(6)) },
      { since: at(-1), until: at(5), consumed: "false" },
    );
    expect(filtered.total).toBe(1);
  });

  it("adds up whole hours from the hourly counts exactly as counting the entries does, for any range and filter, also after entries are deleted", async () => {
    const f = await fleet({ vms: 2 });
    const db = await getDb();
    const base = Math.floor(Date.now() / 3600_000) * 3600_000 - 80 * 3600_000;
    // a small deterministic generator: the same entries on every run
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const kinds = [
      { mechanism: "kvm_exit_arm_sea" },
      { mechanism: "sigbus", sigbusCode: "BUS_MCEERR_AO" },
      { mechanism: "sigbus", sigbusCode: "BUS_MCEERR_AR" },
      { mechanism: "qemu_memory_failure" },
    ] as const;
    const evs = Array.from({ length: 240 }, (_, i) =>
      memoryEvent({
        hostId: f.hostId,
        vmId: f.vmIds[rand(2)]!,
        gpa: gpaOf(i + 1),
        time: new Date(
          base + rand(78 * 60) * 60_000 + rand(60_000),
        ).toISOString(),
        ...kinds[rand(kinds.length)]!,
      }),
    );
    const r = await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: evs,
      contentType: "application/cloudevents-batch+json",
    });
    expect(r.body.accepted, JSON.stringify(r.body)).toBe(240);
    const ctx = {
      db,
      tenantId: f.tenantId,
      now: new Date(base + 80 * 3600_000),
    };
    const [anEntry] = (await listLogEntries(ctx, { limit: 1 })).data;
    const filters = [
      {},
      { vmId: f.vmIds[1]! },
      { projectId: f.projectId },
      { mechanism: "sigbus" as const },
      { consumed: "false" as const },
      { severity: "WARNING" as const },
      { incidentId: anEntry!.incidentId },
      { mechanism: "qemu_memory_failure" as const, vmId: f.vmIds[0]! },
    ];
    const compare = async (rounds: number) => {
      let hourly = 0;
      for (let i = 0; i < rounds; i++) {
        const since =
          base - 2 * 3600_000 + rand(82 * 60) * 60_000 + rand(60_000);
        const until = since + (1 + rand(90)) * 3600_000 + rand(3600_000);
        const q = {
          ...filters[rand(filters.length)],
          since: new Date(since).toISOString(),
          until: new Date(until).toISOString(),
        };
        const a = await countLogEntriesOverTime(ctx, q);
        const b = await countLogEntriesOverTime(ctx, q, { fromEntries: true });
        expect(a, JSON.stringify(q)).toEqual(b);
        if (a.barSeconds % 3600 === 0) hourly += 1;
      }
      // most ranges were long enough to use the hourly counts
      expect(hourly).toBeGreaterThan(rounds / 2);
    };
    await compare(40);
    const total = (
      await countLogEntriesOverTime(ctx, {
        since: new Date(base).toISOString(),
        until: ctx.now.toISOString(),
      })
    ).total;
    expect(total).toBe(240);
    // retention deletes entries; the hourly counts follow
    await db.execute(
      sql`delete from log_entries where tenant_id = ${f.tenantId} and id in (
            select id from log_entries where tenant_id = ${f.tenantId} order by id limit 90)`,
    );
    await compare(40);
    const after = await countLogEntriesOverTime(ctx, {
      since: new Date(base).toISOString(),
      until: ctx.now.toISOString(),
    });
    expect(after.total).toBe(150);
  });

  it("starts at the tenant's oldest entry without since, refuses an empty range, and is the tenant's own", async () => {
    const { f, other, at } = await world();
    setClock(() => new Date(at(3)));
    try {
      const owner = await callerFor(`owner@${f.tenantId}.example`);
      // no member yet: only operators made the fleet; add one through the operator API
      const add = await api(
        "POST",
        `/api/v1/admin/tenants/${f.tenantId}/members`,
        {
          token: f.op,
          body: { email: `owner@${f.tenantId}.example`, role: "owner" },
        },
      );
      expect(add.status).toBe(201);
      const h = await owner.logEntry.histogram({});
      expect(h.since).toBe(at(0));
      expect(h.until).toBe(at(3));
      expect(h.total).toBe(3);
      await expectTRPCError(
        owner.logEntry.histogram({ since: at(2), until: at(1) }),
        "BAD_REQUEST",
      );
      // B's VM as a filter: nothing of B
      const foreign = await owner.logEntry.histogram({ vmId: other.vmId });
      expect(foreign.total).toBe(0);
    } finally {
      setClock(undefined);
    }
  });
});

describe("log explorer: export", () => {
  it("streams every matching row as NDJSON, each line the REST list's entry", async () => {
    const { f } = await world();
    const r = await api(
      "GET",
      `/api/v1/log-entries/export?format=ndjson&vmId=${f.vmIds[0]}`,
      { token: f.apiKey },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(r.headers.get("content-disposition")).toMatch(
      /^attachment; filename="log-entries-.*\.ndjson"$/,
    );
    expect(r.headers.get("x-export-limit")).toBe("100000");
    const lines = String(r.body)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const list = await api("GET", `/api/v1/log-entries?vmId=${f.vmIds[0]}`, {
      token: f.apiKey,
    });
    expect(lines).toEqual(list.body.data);
  });

  it("writes CSV with a header row and RFC 4180 quoting, across keyset batches", async () => {
    const { f, ctx } = await world();
    const r = await api("GET", "/api/v1/log-entries/export?format=csv", {
      token: f.apiKey,
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^text\/csv/);
    const rows = parseCsv(String(r.body));
    expect(rows[0]!.slice(0, 4)).toEqual([
      "insertId",
      "timestamp",
      "receiveTimestamp",
      "severity",
    ]);
    expect(rows).toHaveLength(4);
    const header = rows[0]!;
    const msg = header.indexOf("message");
    const payload = header.indexOf("jsonPayload");
    for (const row of rows.slice(1)) {
      expect(row).toHaveLength(header.length);
      // the message has commas: quoted, and read back whole
      expect(JSON.parse(row[payload]!).message).toBe(row[msg]);
    }
    // read in keyset batches (here of one row): every row once, newest first, as the CSV has them
    const chunks: string[] = [];
    for await (const c of exportLogEntries(ctx, { format: "ndjson" }, 1))
      chunks.push(c);
    expect(chunks).toHaveLength(3);
    expect(chunks.map((c) => JSON.parse(c).insertId)).toEqual(
      rows.slice(1).map((r) => r[0]),
    );
  });

  it("answers bad filters with 400 and another tenant's key with none of this tenant's rows", async () => {
    const { f, other } = await world();
    const bad = await api("GET", "/api/v1/log-entries/export?format=xlsx", {
      token: f.apiKey,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].path).toBe("query.format");
    const foreign = await api(
      "GET",
      `/api/v1/log-entries/export?format=csv&vmId=${f.vmIds[0]}`,
      { token: other.apiKey },
    );
    expect(foreign.status).toBe(200);
    expect(parseCsv(String(foreign.body))).toHaveLength(1); // the header alone
    expect((await api("GET", "/api/v1/log-entries/export")).status).toBe(401);
  });
});

// A strict RFC 4180 reader: quoted fields, doubled quotes, CRLF rows.
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === "") {
      quoted = true;
      i++;
    } else if (c === ",") {
      row.push(field);
      field = "";
      i++;
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i += 2;
    } else {
      expect(
        c,
        `bare ${JSON.stringify(c)} in an unquoted CSV field`,
      ).not.toMatch(/["\r\n]/);
      field += c;
      i++;
    }
  }
  expect(field, "the CSV ends with CRLF").toBe("");
  return rows;
}
