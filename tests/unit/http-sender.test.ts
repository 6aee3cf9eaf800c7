import { once } from "node:events";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resetEnvCache } from "@/server/env";
import { deliverHttp } from "@/server/notify/http-deliver.mjs";
import {
  closeSenderThread,
  sendHttp,
  senderThreadOn,
} from "@/server/notify/http-sender";

// HTTP_SENDER_THREAD=1: the deliverer's requests are made by a worker thread running the same
// deliverHttp, so a delivery's result is the same as in process, and a thread that dies loses no
// delivery (what was under way comes back as a retryable failure).

const servers: Server[] = [];
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{
  port: number;
  bodies: string[];
  headers: IncomingMessage["headers"][];
}> {
  const bodies: string[] = [];
  const headers: IncomingMessage["headers"][] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(Buffer.concat(chunks).toString());
      headers.push(req.headers);
      handler(req, res);
    });
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { port: (server.address() as AddressInfo).port, bodies, headers };
}

const saved = process.env.HTTP_SENDER_THREAD;
beforeAll(() => {
  process.env.HTTP_SENDER_THREAD = "1";
  resetEnvCache();
});
afterEach(async () => {
  await closeSenderThread();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});
afterAll(() => {
  if (saved === undefined) delete process.env.HTTP_SENDER_THREAD;
  else process.env.HTTP_SENDER_THREAD = saved;
  resetEnvCache();
});

const request = (port: number, path = "/hook") => ({
  url: `http://127.0.0.1:${port}${path}`,
  headers: { "webhook-id": "msg_1", "webhook-signature": "v1,abc" },
  body: JSON.stringify({ type: "webhook.test", data: { n: 1 } }),
  allowPrivate: true,
});

describe("where deliveries are sent", () => {
  it("on the sender thread by default on the embedded database, on the main thread with DATABASE_URL, as HTTP_SENDER_THREAD says when set", () => {
    const saved = {
      t: process.env.HTTP_SENDER_THREAD,
      d: process.env.DATABASE_URL,
    };
    const check = (t: string | undefined, d: string | undefined) => {
      if (t === undefined) delete process.env.HTTP_SENDER_THREAD;
      else process.env.HTTP_SENDER_THREAD = t;
      if (d === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = d;
      resetEnvCache();
      return senderThreadOn();
    };
    const pg = "postgres://postgres@127.0.0.1:5432/postgres";
    try {
      expect(check(undefined, undefined)).toBe(true);
      expect(check("", "")).toBe(true);
      expect(check(undefined, pg)).toBe(false);
      expect(check("1", pg)).toBe(true);
      expect(check("0", undefined)).toBe(false);
    } finally {
      check(saved.t, saved.d);
    }
  });
});

describe("sendHttp on the sender thread", () => {
  it("gives the same results as deliverHttp in process: 2xx, 410, 429 with Retry-After, the request as sent", async () => {
    let status = 200;
    const srv = await serve((_req, res) => {
      const h: Record<string, string> = { "content-type": "text/plain" };
      if (status === 429) h["retry-after"] = "7";
      res.writeHead(status, h).end(`answer ${status} ${"é".repeat(600)}`);
    });
    for (status of [200, 410, 429, 500]) {
      const viaThread = await sendHttp(request(srv.port));
      const inProcess = await deliverHttp(request(srv.port));
      const { latencyMs: a, ...thread } = viaThread;
      const { latencyMs: b, ...local } = inProcess;
      expect(thread).toEqual(local);
      expect(thread.statusCode).toBe(status);
      expect(a).toBeGreaterThanOrEqual(0);
      expect(b).toBeGreaterThanOrEqual(0);
    }
    expect(srv.bodies).toHaveLength(8);
    expect(new Set(srv.bodies).size).toBe(1);
    expect(srv.headers[0]!["webhook-id"]).toBe("msg_1");
    expect(srv.headers[0]!["content-type"]).toBe("application/json");
  });

  it("keeps the SSRF guard: a loopback target is refused when private addresses are not allowed", async () => {
    const srv = await serve((_req, res) => res.writeHead(200).end("ok"));
    const refused = await sendHttp({
      ...request(srv.port),
      allowPrivate: false,
    });
    expect(refused.statusCode).toBeNull();
    expect(refused.error).toMatch(/https|loopback/);
    expect(srv.bodies).toHaveLength(0);
  });

  it("a thread that dies answers what was under way with a retryable failure, and the next delivery starts a new one", async () => {
    const srv = await serve((_req, res) => {
      setTimeout(() => res.writeHead(200).end("late"), 2000);
    });
    const underWay = sendHttp(request(srv.port));
    // the request has reached the receiver: the thread, not this one, holds it
    await expect.poll(() => srv.bodies.length).toBe(1);
    await closeSenderThread();
    const lost = await underWay;
    expect(lost.statusCode).toBeNull();
    expect(lost.error).toMatch(/HTTP sender thread exited/);

    const ok = await serve((_req, res) => res.writeHead(204).end());
    expect((await sendHttp(request(ok.port))).statusCode).toBe(204);
  });

  it("a thread that cannot start loses nothing: its deliveries, and the later ones, are sent on this thread", async () => {
    await closeSenderThread("/nonexistent/http-sender-worker.mjs");
    const srv = await serve((_req, res) => res.writeHead(200).end("ok"));
    const [a, b] = await Promise.all([
      sendHttp(request(srv.port, "/a")),
      sendHttp(request(srv.port, "/b")),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect((await sendHttp(request(srv.port, "/c"))).statusCode).toBe(200);
    expect(srv.bodies).toHaveLength(3);
  });
});
