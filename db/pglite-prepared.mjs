// Named prepared statements for PGlite, as postgres.js uses them on a PostgreSQL server.
//
// PGlite's own `query` sends Parse, Describe, Bind, Describe, Execute and Sync as six separate
// calls into its WebAssembly, and parses, analyses and plans the statement every time. Here each
// distinct statement text is parsed once into a named statement (kept per text, the least
// recently used closed past `max`), and every later run is one call: Bind, Describe, Execute,
// Sync. PostgreSQL then reuses the analysis and, after five runs, may use a generic plan, exactly
// as it does for the app's statements on a server. A trivial SELECT by key takes about a third
// of the time it took (scripts measured it: 240 → 75 µs).
//
// Installed on the PGlite instance itself (its `query` and `transaction`), so drizzle, pg-boss
// and the migrator use it unchanged; `exec` (the simple protocol, several statements at once) is
// PGlite's own. Plain JavaScript: the database's worker thread (pglite-worker.mjs) loads it from
// disk as well as the bundled app.
import { parse, protocol, TransactionAbortedError } from "@electric-sql/pglite";

const { serialize } = protocol;

function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const STALE_PLAN = "cached plan must not change result type";

// Kept statements are bounded by their number and by their parameters in all: a plan's memory
// grows with its parameters (an IN list of a thousand ids), so hot large statements stay while
// they are used, without hundreds of them filling the embedded database's memory. A statement
// with more than a tenth of the budget is parsed for its one run and closed.

/**
 * @param {import("@electric-sql/pglite").PGlite} pg
 * @param {{ max?: number, maxParams?: number, onStatement?: (text: string, ms: number, rows: number) => void }} [opts]
 *   max: statements kept (500); maxParams: their parameters in all (50,000);
 *   onStatement: told each statement's text, its time in PGlite and its rows (benchmarks)
 */
export function installPreparedStatements(pg, opts = {}) {
  const max = opts.max ?? 500;
  const maxParams = opts.maxParams ?? 50_000;
  let keptParams = 0;
  /** @type {Map<string, { name: string, oids: number[] }>} */
  const statements = new Map();
  /** @type {string[]} statements to close before the next one runs */
  let closing = [];
  let counter = 0;

  const send = (parts) =>
    pg.execProtocolStream(concat(parts), { syncToFs: false });

  function closeMessages() {
    if (!closing.length) return [];
    const out = closing.map((name) => serialize.close({ type: "S", name }));
    closing = [];
    return out;
  }

  async function statementFor(text, options, keep) {
    const hit = keep ? statements.get(text) : undefined;
    if (hit) {
      // most recently used last: the first is the one to close
      statements.delete(text);
      statements.set(text, hit);
      return hit;
    }
    const name = `pw_${++counter}`;
    const described = await send([
      ...closeMessages(),
      serialize.parse({ name, text, types: options?.paramTypes }),
      serialize.describe({ type: "S", name }),
      serialize.sync(),
    ]);
    const st = { name, oids: parse.parseDescribeStatementResults(described) };
    if (!keep) return st;
    statements.set(text, st);
    keptParams += st.oids.length;
    while (statements.size > max || keptParams > maxParams) {
      const [oldest, old] = statements.entries().next().value;
      statements.delete(oldest);
      keptParams -= old.oids.length;
      closing.push(old.name);
    }
    return st;
  }

  // one statement, under PGlite's query lock (the caller holds the transaction lock, or is the
  // transaction); an error carries the statement and its parameters, as PGlite's own do
  function run(text, params = [], options) {
    if (options?.blob)
      throw new Error("PGlite's blob option is not supported here");
    return pg._runExclusiveQuery(async () => {
      try {
        return await runStatement(text, params, options);
      } catch (e) {
        if (e && typeof e === "object")
          Object.assign(e, { query: text, params });
        throw e;
      }
    });
  }

  async function runStatement(text, params, options) {
    const keep = params.length <= maxParams / 10;
    const st = await statementFor(text, options, keep);
    const values = params.map((v, i) => {
      if (v === null || v === undefined) return null;
      const serializer =
        options?.serializers?.[st.oids[i]] ?? pg.serializers[st.oids[i]];
      return serializer ? serializer(v) : v.toString();
    });
    const started = opts.onStatement ? performance.now() : 0;
    let messages;
    try {
      messages = await send([
        ...closeMessages(),
        serialize.bind({ statement: st.name, values }),
        serialize.describe({ type: "P" }),
        serialize.execute({}),
        serialize.sync(),
      ]);
    } catch (e) {
      // a table changed under a statement parsed before: parse it again next time
      if (
        keep &&
        e instanceof Error &&
        e.message.includes(STALE_PLAN) &&
        statements.get(text) === st
      ) {
        statements.delete(text);
        keptParams -= st.oids.length;
        closing.push(st.name);
      }
      throw e;
    } finally {
      // closed with the next statement's message
      if (!keep) closing.push(st.name);
    }
    const result = parse.parseResults(messages, pg.parsers, options)[0];
    opts.onStatement?.(
      text,
      performance.now() - started,
      result?.rows.length ?? 0,
    );
    return result;
  }

  // the simple protocol (several statements at once, no parameters), under the query lock
  const simple = (text, options) =>
    pg._runExclusiveQuery(async () =>
      parse.parseResults(
        await send([serialize.query(text), serialize.sync()]),
        pg.parsers,
        options,
      ),
    );

  pg.query = async (text, params, options) => {
    await pg._checkReady();
    return pg._runExclusiveTransaction(async () => {
      const result = await run(text, params, options);
      if (!pg.isInTransaction()) await pg.syncToFs();
      return result;
    });
  };

  pg.transaction = async (callback) => {
    await pg._checkReady();
    return pg._runExclusiveTransaction(async () => {
      await simple("BEGIN");
      let closed = false;
      const open = () => {
        if (closed) throw new Error("Transaction is closed");
      };
      const tx = {
        query: async (text, params, options) => {
          open();
          return run(text, params, options);
        },
        sql: async (strings, ...params) => {
          open();
          let text = strings[0];
          params.forEach((_, i) => (text += `$${i + 1}${strings[i + 1]}`));
          return run(text, params);
        },
        exec: async (text, options) => {
          open();
          return simple(text, options);
        },
        rollback: async () => {
          open();
          await simple("ROLLBACK");
          closed = true;
        },
        listen: async (channel, cb) => {
          open();
          return pg.listen(channel, cb, tx);
        },
        get closed() {
          return closed;
        },
      };
      try {
        const result = await callback(tx);
        if (!closed) {
          closed = true;
          const [done] = await simple("COMMIT");
          if (done?.command === "ROLLBACK") throw new TransactionAbortedError();
        }
        await pg.syncToFs();
        return result;
      } catch (e) {
        if (!closed) {
          closed = true;
          await simple("ROLLBACK");
        }
        throw e;
      }
    });
  };

  return pg;
}
