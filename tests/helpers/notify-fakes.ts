import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";
import { api } from "./api";

// Local stand-ins for the outside world of the notifiers: a webhook receiver that verifies every
// message with the official standardwebhooks library, and a fake of Resend's HTTP API.

export type Planned = {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  delayMs?: number;
  // Resend only: accept the email, then drop the connection before answering (a lost response)
  dropAfterAccept?: boolean;
};

export type ReceivedWebhook = {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  payload: { type: string; timestamp: string; data: any };
  // which of the path's secrets verified it (every message must verify with at least one)
  verifiedWith: string[];
  answered: number;
  receivedAt: number;
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function startReceiver() {
  const secrets = new Map<string, string[]>();
  const plans = new Map<string, Planned[]>();
  const received: ReceivedWebhook[] = [];
  const unverified: { path: string; id: string | undefined; error: string }[] =
    [];
  const waiters: { pred: () => boolean; resolve: () => void }[] = [];

  const server = createServer(
    async (req: IncomingMessage, res: ServerResponse) => {
      const body = await readBody(req);
      const path = req.url ?? "/";
      const h = req.headers;
      const id = String(h["webhook-id"] ?? "");
      const pathSecrets = secrets.get(path) ?? [];
      const verifiedWith = pathSecrets.filter((s) => {
        try {
          new Webhook(s).verify(body, {
            "webhook-id": id,
            "webhook-timestamp": String(h["webhook-timestamp"] ?? ""),
            "webhook-signature": String(h["webhook-signature"] ?? ""),
          });
          return true;
        } catch {
          return false;
        }
      });
      if (!verifiedWith.length)
        unverified.push({
          path,
          id,
          error: pathSecrets.length
            ? "signature did not verify"
            : "no secret registered",
        });
      const plan = plans.get(path)?.shift() ?? { status: 200 };
      if (plan.delayMs) await new Promise((r) => setTimeout(r, plan.delayMs));
      received.push({
        path,
        id,
        timestamp: String(h["webhook-timestamp"] ?? ""),
        signature: String(h["webhook-signature"] ?? ""),
        body,
        payload: JSON.parse(body),
        verifiedWith,
        answered: plan.status,
        receivedAt: performance.now(),
      });
      res.writeHead(plan.status, {
        "content-type": "text/plain",
        ...(plan.headers ?? {}),
      });
      res.end(
        plan.body ?? (plan.status < 300 ? "ok" : `status ${plan.status}`),
      );
      for (const w of [...waiters]) {
        if (w.pred()) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    },
  );
  server.keepAliveTimeout = 1;
  const base = await listen(server);
  let n = 0;

  return {
    base,
    received,
    unverified,
    // a fresh path (one per endpoint) and the secrets that must verify its messages
    newPath(): string {
      n += 1;
      return `/hook-${n}`;
    },
    url(path: string): string {
      return base + path;
    },
    setSecrets(path: string, list: string[]) {
      secrets.set(path, list);
    },
    plan(path: string, list: Planned[]) {
      plans.set(path, [...(plans.get(path) ?? []), ...list]);
    },
    on(path: string) {
      return received.filter((r) => r.path === path);
    },
    waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
      if (pred()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error("timed out waiting for webhooks")),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        });
      });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** Points the control-plane callback at a new path of the receiver, which verifies with its secret. */
export async function pointCallbackAt(
  rx: Receiver,
  operatorToken: string,
): Promise<{ path: string; secret: string }> {
  const path = rx.newPath();
  const cb = await api("PUT", "/api/v1/admin/callback", {
    token: operatorToken,
    body: { url: rx.url(path) },
  });
  if (cb.status !== 200)
    throw new Error(
      `PUT /api/v1/admin/callback answered ${cb.status}: ${JSON.stringify(cb.body)}`,
    );
  rx.setSecrets(path, [cb.body.secret]);
  return { path, secret: cb.body.secret };
}

export type ResendRequest = {
  path: string;
  idempotencyKey: string | undefined;
  auth: string | undefined;
  body: any;
  answered: number;
  at: number;
};

// POST /emails and /emails/batch like Resend: Bearer key required, Idempotency-Key replays the
// first answer, a plan can answer 429 / 422 / 500 first.
export async function startFakeResend() {
  const requests: ResendRequest[] = [];
  const delivered: {
    id: string;
    email: any;
    idempotencyKey: string | undefined;
  }[] = [];
  const plans: Planned[] = [];
  const byKey = new Map<string, { status: number; body: string }>();
  let n = 0;

  const server = createServer(async (req, res) => {
    const arrived = performance.now();
    const raw = await readBody(req);
    const path = req.url ?? "/";
    const key = req.headers["idempotency-key"] as string | undefined;
    const auth = req.headers.authorization;
    let body: any = null;
    try {
      body = JSON.parse(raw);
    } catch {
      /* keep null */
    }
    const answer = (
      status: number,
      payload: unknown,
      headers: Record<string, string> = {},
    ) => {
      requests.push({
        path,
        idempotencyKey: key,
        auth,
        body,
        answered: status,
        at: arrived,
      });
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(typeof payload === "string" ? payload : JSON.stringify(payload));
    };
    if (
      req.method !== "POST" ||
      (path !== "/emails" && path !== "/emails/batch")
    ) {
      return answer(404, {
        statusCode: 404,
        name: "not_found",
        message: "Not found",
      });
    }
    if (!auth?.startsWith("Bearer "))
      return answer(401, {
        statusCode: 401,
        name: "missing_api_key",
        message: "Missing API key",
      });
    const plan = plans.shift();
    if (plan && plan.status >= 300 && !plan.dropAfterAccept) {
      return answer(
        plan.status,
        plan.body ?? {
          statusCode: plan.status,
          name: "application_error",
          message: "planned",
        },
        plan.headers,
      );
    }
    if (key && byKey.has(key)) {
      const prev = byKey.get(key)!;
      return answer(prev.status, prev.body);
    }
    const list = path === "/emails/batch" ? (body as any[]) : [body];
    const ids = list.map((email) => {
      n += 1;
      const id = `re_${n}`;
      delivered.push({ id, email, idempotencyKey: key });
      return id;
    });
    const payload = JSON.stringify(
      path === "/emails/batch"
        ? { data: ids.map((id) => ({ id })) }
        : { id: ids[0] },
    );
    if (key) byKey.set(key, { status: 200, body: payload });
    if (plan?.dropAfterAccept) {
      requests.push({
        path,
        idempotencyKey: key,
        auth,
        body,
        answered: 0,
        at: arrived,
      });
      req.socket.destroy();
      return;
    }
    answer(200, payload);
  });
  const base = await listen(server);
  return {
    base,
    requests,
    delivered,
    plan(list: Planned[]) {
      plans.push(...list);
    },
    reset() {
      requests.length = 0;
      delivered.length = 0;
      plans.length = 0;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
export type FakeResend = Awaited<ReturnType<typeof startFakeResend>>;
