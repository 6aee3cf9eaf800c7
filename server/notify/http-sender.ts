import path from "node:path";
import { Worker } from "node:worker_threads";
import { env } from "@/server/env";
import { log } from "@/server/log";
import type { DeliveryRequest, DeliveryResult } from "./http-deliver.mjs";
import { deliverHttp } from "./http-deliver.mjs";

// Where the deliverer's HTTP requests are made. On the sender thread (HTTP_SENDER_THREAD=1; the
// default on the embedded database) a worker thread connects, sends and reads the answers
// (server/notify/http-sender-worker.mjs), so the thread that runs the app and its database only
// claims, renders and signs; otherwise (HTTP_SENDER_THREAD=0; the default with DATABASE_URL, where
// the database works in its own process) deliverHttp runs in this thread. Both give the same
// results: the worker runs the same deliverHttp.
export const SENDER_WORKER_FILE = path.join(
  process.cwd(),
  "server",
  "notify",
  "http-sender-worker.mjs",
);

type Pending = {
  request: DeliveryRequest;
  resolve: (result: DeliveryResult | PromiseLike<DeliveryResult>) => void;
};

class SenderThread {
  constructor(private readonly file: string) {}
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  // the thread could not start (its file missing from a deployment, say): this process sends in
  // its own thread from then on rather than failing every delivery
  private broken = false;

  send(request: DeliveryRequest): Promise<DeliveryResult> {
    if (this.broken) return deliverHttp(request);
    const worker = this.ensure();
    const id = this.next++;
    return new Promise<DeliveryResult>((resolve) => {
      // the thread keeps the process alive only while a delivery is under way
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { request, resolve });
      worker.postMessage({ id, request });
    });
  }

  private settle(
    id: number,
    result: DeliveryResult | PromiseLike<DeliveryResult>,
  ) {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker?.unref();
    p.resolve(result);
  }

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.file);
    let ready = false;
    worker.unref();
    worker.on(
      "message",
      (m: { ready: true } | { id: number; result: DeliveryResult }) => {
        // "ready" once its modules have loaded ("online" comes before that)
        if ("ready" in m) ready = true;
        else this.settle(m.id, m.result);
      },
    );
    const lost = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, p] of [...this.pending])
        this.settle(
          id,
          // never started: nothing was sent, so send it here; otherwise what was under way is
          // retried on the retry schedule, like a dropped connection
          this.broken
            ? deliverHttp(p.request)
            : {
                statusCode: null,
                error: `the HTTP sender thread ${why}`,
                latencyMs: 0,
                responseExcerpt: "",
              },
        );
    };
    worker.on("error", (err) => {
      if (!ready) this.broken = true;
      log.error(
        ready
          ? "the HTTP sender thread failed"
          : "the HTTP sender thread could not start; sending on the main thread",
        { err: String(err) },
      );
      lost(`failed: ${err.message}`);
    });
    worker.on("exit", (code) => lost(`exited (${code})`));
    this.worker = worker;
    return worker;
  }

  async close() {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}

let thread: SenderThread | undefined;
let workerFile = SENDER_WORKER_FILE;

export function senderThreadOn(): boolean {
  const e = env();
  return e.HTTP_SENDER_THREAD
    ? e.HTTP_SENDER_THREAD === "1"
    : e.DATABASE_URL === undefined;
}

export function sendHttp(request: DeliveryRequest): Promise<DeliveryResult> {
  // a replaced resolver (tests) is a function, which cannot cross to the thread
  if (!senderThreadOn() || request.resolveHost) return deliverHttp(request);
  thread ??= new SenderThread(workerFile);
  return thread.send(request);
}

// Tests and shutdown: stops the thread (the next delivery starts a new one, from `file` when given:
// tests start one that cannot start).
export async function closeSenderThread(
  file: string = SENDER_WORKER_FILE,
): Promise<void> {
  const t = thread;
  thread = undefined;
  workerFile = file;
  await t?.close();
}
