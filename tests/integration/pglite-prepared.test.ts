import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installPreparedStatements } from "@/db/pglite-prepared.mjs";

// db/pglite-prepared.mjs replaces PGlite's query and transaction with named prepared statements.
// PGlite's own query, on a second instance with the same data, is the oracle: every result must be
// the same, and what a statement cannot do (a type error, a statement after an error in a
// transaction) must fail the same way.

let plain: PGlite;
let prepared: PGlite;
const setup = `
  create table t (id int primary key, at timestamptz, day date, doc jsonb, tags text[],
                  n numeric, b bytea, flag boolean, big bigint);
  insert into t values
    (1, '2026-05-01T12:00:00Z', '2026-05-01', '{"a":[1,2]}', '{x,"y z"}', 1.50, '\\x0102', true, 9007199254740993),
    (2, null, null, null, null, null, null, null, null);`;

beforeAll(async () => {
  plain = await PGlite.create("memory://");
  // at most 3 statements kept, and 1,000 parameters in all (one of more than 100 is not kept)
  prepared = installPreparedStatements(await PGlite.create("memory://"), {
    max: 3,
    maxParams: 1000,
  });
  await plain.exec(setup);
  await prepared.exec(setup);
});
afterAll(async () => {
  await plain?.close();
  await prepared?.close();
});

const statements: [string, unknown[]][] = [
  ["select * from t order by id", []],
  ["select * from t where id = $1", [1]],
  ["select id from t where tags && $1 order by id", [["y z"]]],
  ["select $1::jsonb as doc, $2::timestamptz as at", [{ k: "v" }, new Date(0)]],
  ["select id, doc->'a' as a from t where id = any($1)", [[1, 2]]],
  ["select count(*) from t where flag = $1", [true]],
  ["select b from t where b = $1", [new Uint8Array([1, 2])]],
  ["update t set n = n + $1 where id = $2 returning n", [1, 1]],
];

describe("PGlite with named prepared statements", () => {
  it("returns what PGlite's own query returns, in both row modes, on every run (parsed once, then from the cache)", async () => {
    for (let round = 0; round < 3; round++)
      for (const [text, params] of statements)
        for (const rowMode of ["object", "array"] as const) {
          const want = await plain.query(text, params, { rowMode });
          const got = await prepared.query(text, params, { rowMode });
          expect(got, `${text} (${rowMode}, round ${round})`).toEqual(want);
        }
  });

  it("keeps at most max statements, and runs an evicted statement again", async () => {
    // max is 3: these four evict the first, which then runs (is parsed) again
    for (const i of [1, 2, 3, 4, 1]) {
      const r = await prepared.query<{ v: number }>(
        `select $1::int + ${i} as v`,
        [10],
      );
      expect(r.rows).toEqual([{ v: 10 + i }]);
    }
    const open = await prepared.query<{ n: number }>(
      "select count(*)::int as n from pg_prepared_statements",
    );
    expect(open.rows[0]!.n).toBeLessThanOrEqual(4);
  });

  it("runs a statement of many parameters once without keeping it, also when it fails", async () => {
    const open = async () =>
      (
        await prepared.query<{ n: number }>(
          "select count(*)::int as n from pg_prepared_statements",
        )
      ).rows[0]!.n;
    const before = await open();
    for (const n of [101, 150, 101]) {
      const ids = Array.from({ length: n }, (_, i) => i);
      const text = `select count(*)::int as n from t where id in (${ids.map((i) => `$${i + 1}`).join(", ")})`;
      const want = await plain.query(text, ids);
      expect(await prepared.query(text, ids)).toEqual(want);
      await expect(
        prepared.query(text, ["x", ...ids.slice(1)]),
      ).rejects.toMatchObject({ code: "22P02" });
    }
    // each was closed with the next statement's message, before the count ran
    expect(await open()).toBe(before);
  });

  it("keeps statements within their parameters in all, closing the least recently used", async () => {
    const budget = installPreparedStatements(await PGlite.create("memory://"), {
      max: 100,
      maxParams: 250,
    });
    try {
      const open = async () =>
        (
          await budget.query<{ n: number }>(
            "select count(*)::int as n from pg_prepared_statements",
          )
        ).rows[0]!.n;
      // twenty statements of 20 parameters each: at most 12 fit in 250
      for (let k = 0; k < 20; k++) {
        const ps = Array.from({ length: 20 }, (_, i) => i + k);
        const text = `select ${ps.map((_, i) => `$${i + 1}::int`).join(" + ")} + ${k} as v`;
        const want = ps.reduce((a, b) => a + b, 0) + k;
        expect((await budget.query<{ v: number }>(text, ps)).rows).toEqual([
          { v: want },
        ]);
      }
      expect(await open()).toBeLessThanOrEqual(13);
      expect(await open()).toBeGreaterThanOrEqual(10);
    } finally {
      await budget.close();
    }
  });

  it("fails a bad statement with PostgreSQL's error, and the next statement runs", async () => {
    const err = await prepared
      .query("select * from t where id = $1", ["not a number"])
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "22P02" });
    await expect(prepared.query("select nope from t")).rejects.toMatchObject({
      code: "42703",
    });
    expect((await prepared.query("select 1 as one")).rows).toEqual([
      { one: 1 },
    ]);
  });

  it("commits a transaction's statements together, rolls them back when it throws, and refuses statements after an error in it", async () => {
    await prepared.transaction(async (tx) => {
      await tx.query("insert into t (id) values ($1)", [10]);
      await tx.query("insert into t (id) values ($1)", [11]);
    });
    await expect(
      prepared.transaction(async (tx) => {
        await tx.query("insert into t (id) values ($1)", [12]);
        throw new Error("changed my mind");
      }),
    ).rejects.toThrow("changed my mind");
    await expect(
      prepared.transaction(async (tx) => {
        await tx.query("insert into t (id) values ($1)", [13]);
        await tx.query("insert into t (id) values ($1)", [13]).catch(() => {});
        await tx.query("select 1");
      }),
    ).rejects.toMatchObject({ code: "25P02" });
    const ids = await prepared.query<{ id: number }>(
      "select id from t where id >= 10 order by id",
    );
    expect(ids.rows).toEqual([{ id: 10 }, { id: 11 }]);
    expect(prepared.isInTransaction()).toBe(false);
  });

  it("parses a statement again when its table changed under it", async () => {
    await prepared.exec("create table c (a int); insert into c values (1)");
    const text = "select * from c";
    expect((await prepared.query(text)).rows).toEqual([{ a: 1 }]);
    expect((await prepared.query(text)).rows).toEqual([{ a: 1 }]);
    await prepared.exec("alter table c add column z text default 'z'");
    // PostgreSQL refuses the stale statement once ("cached plan must not change result type")
    // or re-plans it; either way the statement works from then on
    await prepared.query(text).catch(() => {});
    expect((await prepared.query(text)).rows).toEqual([{ a: 1, z: "z" }]);
  });
});
