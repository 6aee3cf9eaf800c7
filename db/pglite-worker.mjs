// The embedded database's own thread (worker_threads): PGlite runs its WebAssembly here, so the
// main thread (HTTP, validation, rendering, delivery) never waits behind a query. db/pglite-proxy.ts
// is the other end. Plain JavaScript, loaded from disk by path: it is not bundled by Next.
//
// Messages in: { id, op, tx?, text?, params?, opts?, channel?, name?, args?, context? }; out:
// { id, ok, result | error }, and { notify: channel, payload } for LISTEN. "task" runs a whole
// piece of server work here (db/thread-tasks.mjs: ingestion's group transaction, the deliverer's
// database work), one message instead of a round trip per statement. A transaction stays open in here, pinned by its
// id, until the main thread sends "commit" or "rollback"; other statements wait for it on
// PGlite's own lock, as they would in one thread.
import { parentPort, workerData } from "node:worker_threads";
import { openPgliteClient } from "./pglite-open.mjs";
import { importThreadTasks } from "./thread-tasks.mjs";

const ROLLBACK = Symbol("rollback");
const identity = (v) => v;

function queryOptions(o) {
  if (!o) return undefined;
  const out = {};
  if (o.rowMode) out.rowMode = o.rowMode;
  // drizzle's parsers keep date and time values as the text PostgreSQL sent (identity functions);
  // functions cannot cross threads, so their type ids do
  if (o.rawTypes)
    out.parsers = Object.fromEntries(o.rawTypes.map((t) => [t, identity]));
  return out;
}

function errorOf(e) {
  if (!(e instanceof Error)) return { message: String(e) };
  const out = { name: e.name, message: e.message, stack: e.stack };
  for (const [k, v] of Object.entries(e))
    if (v === null || ["string", "number", "boolean"].includes(typeof v))
      out[k] = v;
  // drizzle's query error holds the database's error (its SQLSTATE) as its cause
  if (e.cause instanceof Error) out.cause = errorOf(e.cause);
  return out;
}

const reply = (id, ok, value) =>
  parentPort.postMessage(
    ok ? { id, ok, result: value } : { id, ok, error: errorOf(value) },
  );

// Results carry only what drizzle and pg-boss read.
const resultOf = (r) => ({
  rows: r.rows,
  fields: r.fields,
  affectedRows: r.affectedRows,
});

let pg;
try {
  pg = await openPgliteClient(workerData.dataDir, {
    loadDataDir: workerData.loadDataDir,
  });
} catch (e) {
  parentPort.postMessage({ ready: false, error: errorOf(e) });
  process.exit(1);
}
// the tasks are an optimisation: without them the database still answers statement by statement
let tasks = null;
let tasksError;
if (workerData.tasks) {
  try {
    tasks = await importThreadTasks(workerData.root);
  } catch (e) {
    tasksError = errorOf(e);
  }
}
parentPort.postMessage({ ready: true, tasks: tasks !== null, tasksError });

// open transactions by id: statements waiting to run in them
const txs = new Map();
const unlisten = new Map();

function runTransaction(m) {
  const box = { queue: [], wake: null };
  txs.set(m.tx, box);
  let end = null;
  pg.transaction(async (t) => {
    reply(m.id, true, null);
    for (;;) {
      const next =
        box.queue.shift() ?? (await new Promise((r) => (box.wake = r)));
      if (next.op === "commit" || next.op === "rollback") {
        end = next;
        if (next.op === "rollback") throw ROLLBACK;
        return;
      }
      try {
        const r =
          next.op === "txexec"
            ? (await t.exec(next.text)).map(resultOf)
            : resultOf(
                await t.query(next.text, next.params, queryOptions(next.opts)),
              );
        reply(next.id, true, r);
      } catch (e) {
        reply(next.id, false, e);
      }
    }
  }).then(
    () => {
      txs.delete(m.tx);
      reply(end.id, true, null);
    },
    (e) => {
      txs.delete(m.tx);
      if (end) reply(end.id, e === ROLLBACK, e === ROLLBACK ? null : e);
      else reply(m.id, false, e);
    },
  );
}

parentPort.on("message", async (m) => {
  try {
    switch (m.op) {
      case "query":
        reply(
          m.id,
          true,
          resultOf(await pg.query(m.text, m.params, queryOptions(m.opts))),
        );
        return;
      case "exec":
        reply(m.id, true, (await pg.exec(m.text)).map(resultOf));
        return;
      case "begin":
        runTransaction(m);
        return;
      case "task":
        if (!tasks) throw new Error("The database thread runs no tasks");
        reply(m.id, true, await tasks.runTask(pg, m.name, m.args, m.context));
        return;
      case "txquery":
      case "txexec":
      case "commit":
      case "rollback": {
        const box = txs.get(m.tx);
        if (!box) throw new Error(`No open transaction ${m.tx}`);
        box.queue.push(m);
        const wake = box.wake;
        box.wake = null;
        wake?.(box.queue.shift());
        return;
      }
      case "listen": {
        const off = await pg.listen(m.channel, (payload) =>
          parentPort.postMessage({ notify: m.channel, payload }),
        );
        unlisten.set(m.channel, off);
        reply(m.id, true, null);
        return;
      }
      case "unlisten":
        await unlisten.get(m.channel)?.();
        unlisten.delete(m.channel);
        reply(m.id, true, null);
        return;
      case "close":
        await pg.close();
        reply(m.id, true, null);
        return;
      default:
        throw new Error(`Unknown operation ${m.op}`);
    }
  } catch (e) {
    reply(m.id, false, e);
  }
});
