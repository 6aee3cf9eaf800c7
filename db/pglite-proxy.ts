import path from "node:path";
import { SHARE_ENV, Worker } from "node:worker_threads";

// The main thread's end of db/pglite-worker.mjs: the part of PGlite's interface that drizzle
// (drizzle-orm/pglite) and pg-boss (fromPglite) use — query, exec, transaction, listen, close —
// with every statement run by the database's own thread. A transaction is pinned to that thread
// by its id until it commits or rolls back.

type QueryOptions = {
  rowMode?: "array" | "object";
  parsers?: Record<number, unknown>;
};
type Result = {
  rows: unknown[];
  fields: { name: string; dataTypeID: number }[];
  affectedRows?: number;
};
type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: Record<string, unknown> }
  | { notify: string; payload: string }
  | {
      ready: boolean;
      error?: Record<string, unknown>;
      tasks?: boolean;
      tasksError?: Record<string, unknown>;
    };

export type PGliteTransactionProxy = {
  query: (
    text: string,
    params?: unknown[],
    opts?: QueryOptions,
  ) => Promise<Result>;
  exec: (text: string) => Promise<Result[]>;
  rollback: () => Promise<void>;
  closed: boolean;
};

export const WORKER_FILE = path.join(process.cwd(), "db", "pglite-worker.mjs");

// A PGlite error re-made on this side with its fields (code, detail, constraint…), which callers
// read to tell a unique violation or a serialization failure from other errors.
function rebuild(e: Record<string, unknown>): Error {
  const err = new Error(String(e.message ?? "database error"));
  Object.assign(err, e);
  if (e.cause && typeof e.cause === "object")
    err.cause = rebuild(e.cause as Record<string, unknown>);
  return err;
}

function encode(opts?: QueryOptions) {
  if (!opts) return undefined;
  return {
    rowMode: opts.rowMode,
    rawTypes: opts.parsers ? Object.keys(opts.parsers).map(Number) : undefined,
  };
}

export class PGliteProxy {
  private nextId = 1;
  private nextTx = 1;
  private pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: unknown) => void }
  >();
  private listeners = new Map<string, Set<(payload: string) => void>>();
  private dead: Error | null = null;
  // A property, not the constant: Next traces a constant path and bundles the thread's module
  // (with copies of PGlite of its own); it runs from disk, as in tests, and imports
  // db/thread-tasks.mjs from there.
  static workerFile = WORKER_FILE;
  // whether the thread runs tasks (db/thread-tasks.mjs), and why not when they were asked for
  hasTasks = false;
  tasksProblem: string | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (m: Reply) => {
      if ("notify" in m) {
        for (const cb of this.listeners.get(m.notify) ?? []) cb(m.payload);
        return;
      }
      if (!("id" in m)) return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(rebuild(m.error));
    });
    const fail = (e: Error) => {
      this.dead ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    worker.on("error", fail);
    worker.on("exit", (code) =>
      fail(new Error(`The database thread exited (code ${code})`)),
    );
  }

  static async create(
    dataDir: string,
    opts: { loadDataDir?: Blob | File; tasks?: boolean } = {},
  ): Promise<PGliteProxy> {
    const worker = new Worker(PGliteProxy.workerFile, {
      workerData: {
        dataDir,
        loadDataDir: opts.loadDataDir,
        tasks: opts.tasks ?? false,
        root: process.cwd(),
      },
      // the tasks read the app's configuration as the main thread has it, also after it changes
      env: SHARE_ENV,
    });
    let tasks = false;
    let tasksProblem: string | null = null;
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: Reply) => {
        if (!("ready" in m)) return;
        worker.off("message", onMessage);
        tasks = m.tasks ?? false;
        if (opts.tasks && !tasks)
          tasksProblem = m.tasksError
            ? String(m.tasksError.message)
            : "no built tasks (npm run build makes them)";
        if (m.ready) resolve();
        else reject(rebuild(m.error ?? {}));
      };
      worker.on("message", onMessage);
      worker.once("error", reject);
      worker.once("exit", (code) =>
        reject(new Error(`The database thread exited (code ${code})`)),
      );
    });
    worker.removeAllListeners("error");
    worker.removeAllListeners("exit");
    const proxy = new PGliteProxy(worker);
    proxy.hasTasks = tasks;
    proxy.tasksProblem = tasksProblem;
    return proxy;
  }

  // One piece of server work run whole in the database's thread (db/thread-tasks.mjs), with
  // what the main thread's state the task needs (server/jobs/db-thread-tasks.ts).
  runTask<T>(name: string, args: unknown[], context: unknown): Promise<T> {
    return this.call<T>({ op: "task", name, args, context });
  }

  private call<T>(msg: Record<string, unknown>): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, {
        resolve: resolve as (v: unknown) => void,
        reject,
      });
      this.worker.postMessage({ ...msg, id });
    });
  }

  query(text: string, params?: unknown[], opts?: QueryOptions) {
    return this.call<Result>({ op: "query", text, params, opts: encode(opts) });
  }

  exec(text: string) {
    return this.call<Result[]>({ op: "exec", text });
  }

  async transaction<T>(
    callback: (tx: PGliteTransactionProxy) => Promise<T>,
  ): Promise<T> {
    const txId = this.nextTx++;
    await this.call({ op: "begin", tx: txId });
    let rolledBack = false;
    const tx: PGliteTransactionProxy = {
      query: (text, params, opts) =>
        this.call<Result>({
          op: "txquery",
          tx: txId,
          text,
          params,
          opts: encode(opts),
        }),
      exec: (text) => this.call<Result[]>({ op: "txexec", tx: txId, text }),
      // like PGlite's: the transaction ends with a rollback once the callback returns
      rollback: async () => {
        rolledBack = true;
      },
      closed: false,
    };
    let result: T;
    try {
      result = await callback(tx);
    } catch (e) {
      tx.closed = true;
      await this.call({ op: "rollback", tx: txId }).catch(() => {});
      throw e;
    }
    tx.closed = true;
    if (rolledBack) {
      await this.call({ op: "rollback", tx: txId });
      return result;
    }
    await this.call({ op: "commit", tx: txId });
    return result;
  }

  async listen(
    channel: string,
    callback: (payload: string) => void,
  ): Promise<() => Promise<void>> {
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      await this.call({ op: "listen", channel });
    }
    set.add(callback);
    return async () => {
      set.delete(callback);
      if (set.size === 0 && this.listeners.get(channel) === set) {
        this.listeners.delete(channel);
        await this.call({ op: "unlisten", channel });
      }
    };
  }

  async close(): Promise<void> {
    if (!this.dead) await this.call({ op: "close" });
    this.dead ??= new Error("The database is closed");
    await this.worker.terminate();
  }
}
