import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { dbKindOf, openPglite, rawRows } from "@/db/client";
import type { PGliteProxy } from "@/db/pglite-proxy";

// The embedded database on a thread of its own (db/pglite-proxy.ts + db/pglite-worker.mjs) behaves
// as PGlite in this thread does for drizzle and pg-boss: results and types, transactions pinned
// until they end, errors with their SQLSTATE, LISTEN/NOTIFY.

let h: DbHandle;
beforeAll(async () => {
  h = await openPglite("memory://", {
    thread: true,
    migrate: false,
    lock: false,
  });
  await h.db.execute(
    sql`create table t (id int primary key, at timestamptz, doc jsonb)`,
  );
});
afterAll(async () => {
  await h?.close();
});

const count = async () =>
  (
    await rawRows<{ n: number }>(h.db, sql`select count(*)::int as n from t`)
  )[0]!.n;

describe("PGlite on its own thread", () => {
  it("is a PGlite database to the app, and returns rows as PGlite does", async () => {
    expect(h.kind).toBe("pglite");
    expect(dbKindOf(h.db)).toBe("pglite");
    await h.db.execute(
      sql`insert into t values (1, '2026-05-01T12:00:00Z', '{"a":[1,2]}')`,
    );
    const [row] = await rawRows<{ id: number; at: string; doc: unknown }>(
      h.db,
      sql`select * from t where id = 1`,
    );
    // drizzle keeps timestamps as the text PostgreSQL sent
    expect(row).toEqual({
      id: 1,
      at: "2026-05-01 12:00:00+00",
      doc: { a: [1, 2] },
    });
  });

  it("commits a transaction's statements together, and rolls them all back when it throws", async () => {
    const before = await count();
    await h.db.transaction(async (tx) => {
      await tx.execute(sql`insert into t (id) values (10)`);
      await tx.execute(sql`insert into t (id) values (11)`);
    });
    expect(await count()).toBe(before + 2);
    await expect(
      h.db.transaction(async (tx) => {
        await tx.execute(sql`insert into t (id) values (12)`);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    expect(await count()).toBe(before + 2);
  });

  it("keeps a transaction pinned: a statement from outside waits until it commits", async () => {
    const before = await count();
    let seen: number | null = null;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const tx = h.db.transaction(async (t) => {
      await t.execute(sql`insert into t (id) values (20)`);
      await held;
      await t.execute(sql`insert into t (id) values (21)`);
    });
    await new Promise((r) => setTimeout(r, 20));
    const outside = count().then((n) => (seen = n));
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toBeNull();
    release();
    await tx;
    await outside;
    expect(seen).toBe(before + 2);
  });

  it("reports a database error with its SQLSTATE, and goes on working", async () => {
    const err = await h.db
      .execute(sql`insert into t (id) values (1)`)
      .catch((e: unknown) => e as Error & { cause?: { code?: string } });
    expect(err).toBeInstanceOf(Error);
    expect((err as { cause?: { code?: string } }).cause?.code).toBe("23505");
    const inTx = await h.db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into t (id) values (1)`);
      })
      .catch((e: unknown) => e as Error & { cause?: { code?: string } });
    expect((inTx as { cause?: { code?: string } }).cause?.code).toBe("23505");
    expect(await count()).toBeGreaterThan(0);
  });

  it("delivers NOTIFY to a listener on this thread, until it stops listening", async () => {
    const proxy = h.raw as PGliteProxy;
    const got: string[] = [];
    const off = await proxy.listen("pw_test", (p) => got.push(p));
    await proxy.query("select pg_notify('pw_test', 'one')");
    await new Promise((r) => setTimeout(r, 50));
    await off();
    await proxy.query("select pg_notify('pw_test', 'two')");
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toEqual(["one"]);
  });

  it("opens with the app's session settings, here as on the main thread (db/pglite-open.mjs)", async () => {
    const main = await openPglite("memory://", { migrate: false, lock: false });
    try {
      for (const db of [h.db, main.db])
        expect(
          await rawRows<{ wal_init_zero: string }>(db, sql`show wal_init_zero`),
        ).toEqual([{ wal_init_zero: "off" }]);
    } finally {
      await main.close();
    }
  });

  // last: it closes the database the others use
  it("answers a closed database with a clear error, and closes twice without harm", async () => {
    await h.close();
    const err = await h.db.execute(sql`select 1`).catch((e: unknown) => e);
    expect((err as { cause?: Error }).cause?.message).toBe(
      "The database is closed",
    );
    await h.close();
  });
});
