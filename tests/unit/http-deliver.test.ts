import { once } from "node:events";
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  agentFor,
  classifyDelivery,
  deliverHttp,
  guardedLookup,
  parseRetryAfter,
  type ResolveHost,
} from "@/server/notify/http-deliver.mjs";

type Received = {
  method?: string;
  url?: string;
  headers: IncomingMessage["headers"];
  body: string;
};

type TestServer = {
  port: number;
  connections: number;
  requests: Received[];
  server: Server;
};

const servers: Server[] = [];

async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const state: TestServer = {
    port: 0,
    connections: 0,
    requests: [],
    server: createServer(),
  };
  state.server.on("connection", () => {
    state.connections += 1;
  });
  state.server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      state.requests.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      handler(req, res);
    });
  });
  servers.push(state.server);
  state.server.listen(0, "127.0.0.1");
  await once(state.server, "listening");
  state.port = (state.server.address() as AddressInfo).port;
  return state;
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const body = JSON.stringify({
  type: "webhook.test",
  timestamp: "2025-01-01T00:00:00.000Z",
  data: {},
});
const signed = {
  "webhook-id": "msg_1",
  "webhook-timestamp": "1700000000",
  "webhook-signature": "v1,abc",
};
const toLoopback: ResolveHost = async () => [
  { address: "127.0.0.1", family: 4 },
];

describe("deliverHttp", () => {
  it("POSTs JSON with the given headers and reports a 2xx with latency and a 1 KiB excerpt", async () => {
    const srv = await startServer((_req, res) => {
      setTimeout(
        () =>
          res
            .writeHead(200, { "content-type": "text/plain" })
            .end(`a${"é".repeat(600)}`),
        30,
      );
    });
    const result = await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/hook?x=1`,
      headers: { ...signed, "Content-Type": "text/plain" },
      body,
      allowPrivate: true,
    });
    expect(result.statusCode).toBe(200);
    expect(result.error).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(25);
    // 1024 bytes end inside a two-byte "é"; the half character is dropped, not garbled.
    expect(result.responseExcerpt).toBe(`a${"é".repeat(511)}`);
    expect(classifyDelivery(result)).toBe("success");
    const [received] = srv.requests;
    expect(received?.method).toBe("POST");
    expect(received?.url).toBe("/hook?x=1");
    expect(received?.headers["content-type"]).toBe("application/json");
    expect(received?.headers["webhook-id"]).toBe("msg_1");
    expect(received?.headers["webhook-signature"]).toBe("v1,abc");
    expect(received?.body).toBe(body);
  });

  it("reports a 500 as retry", async () => {
    const srv = await startServer((_req, res) =>
      res.writeHead(500).end("boom"),
    );
    const result = await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    expect(result).toMatchObject({ statusCode: 500, responseExcerpt: "boom" });
    expect(result.error).toBeUndefined();
    expect(classifyDelivery(result)).toBe("retry");
  });

  it("parses Retry-After seconds on 429", async () => {
    const srv = await startServer((_req, res) =>
      res.writeHead(429, { "retry-after": "7" }).end(),
    );
    const result = await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    expect(result.statusCode).toBe(429);
    expect(result.retryAfterSeconds).toBe(7);
    expect(classifyDelivery(result)).toBe("retry");
  });

  it("parses a Retry-After HTTP date on 503", async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    const srv = await startServer((_req, res) =>
      res.writeHead(503, { "retry-after": at }).end(),
    );
    const result = await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    expect(result.statusCode).toBe(503);
    expect(result.retryAfterSeconds).toBeGreaterThanOrEqual(118);
    expect(result.retryAfterSeconds).toBeLessThanOrEqual(120);
  });

  it("never follows a redirect", async () => {
    const target = await startServer((_req, res) => res.writeHead(200).end());
    const srv = await startServer((_req, res) =>
      res
        .writeHead(302, {
          location: `http://127.0.0.1:${target.port}/elsewhere`,
        })
        .end(),
    );
    const result = await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    expect(result.statusCode).toBe(302);
    expect(classifyDelivery(result)).toBe("retry");
    await new Promise((r) => setTimeout(r, 50));
    expect(target.connections).toBe(0);
    expect(target.requests).toHaveLength(0);
  });

  it("reports 410 as gone", async () => {
    const srv = await startServer((_req, res) => res.writeHead(410).end());
    const result = await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    expect(result.statusCode).toBe(410);
    expect(classifyDelivery(result)).toBe("gone");
  });

  it("times out a receiver that never answers", async () => {
    const srv = await startServer(() => {});
    const result = await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/`,
      headers: signed,
      body,
      allowPrivate: true,
      timeoutMs: 300,
    });
    expect(result).toMatchObject({
      statusCode: null,
      error: "timeout",
      responseExcerpt: "",
    });
    expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    expect(result.latencyMs).toBeLessThan(3000);
    expect(classifyDelivery(result)).toBe("retry");
  });

  it("counts a hanging name resolution against the same timeout", async () => {
    const result = await deliverHttp({
      url: "https://hangs.test/",
      headers: signed,
      body,
      allowPrivate: false,
      timeoutMs: 200,
      resolveHost: () => new Promise(() => {}),
    });
    expect(result).toMatchObject({ statusCode: null, error: "timeout" });
  });

  it.each([
    ["https", "127.0.0.1"],
    ["http", "127.0.0.1"],
    ["https", "[::ffff:127.0.0.1]"],
    ["https", "localhost"],
  ])(
    "refuses %s://%s without allowPrivate before connecting",
    async (scheme, host) => {
      const srv = await startServer((_req, res) => res.writeHead(200).end());
      const result = await deliverHttp({
        url: `${scheme}://${host}:${srv.port}/`,
        headers: signed,
        body,
        allowPrivate: false,
      });
      expect(result.statusCode).toBeNull();
      expect(result.error).toMatch(/^URL must/);
      expect(classifyDelivery(result)).toBe("retry");
      await new Promise((r) => setTimeout(r, 50));
      expect(srv.connections).toBe(0);
      expect(srv.requests).toHaveLength(0);
    },
  );

  it("refuses a name that resolves to loopback (DNS rebinding) before connecting", async () => {
    const srv = await startServer((_req, res) => res.writeHead(200).end());
    const result = await deliverHttp({
      url: `https://rebind.test:${srv.port}/`,
      headers: signed,
      body,
      allowPrivate: false,
      resolveHost: toLoopback,
    });
    expect(result.statusCode).toBeNull();
    expect(result.error).toBe(
      "refused: rebind.test resolves to a non-public address (127.0.0.1)",
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.connections).toBe(0);
  });

  it("delivers to loopback by name and by address when allowPrivate", async () => {
    const srv = await startServer((_req, res) => res.writeHead(204).end());
    const byResolver = await deliverHttp({
      url: `http://rebind.test:${srv.port}/`,
      headers: signed,
      body,
      allowPrivate: true,
      resolveHost: toLoopback,
    });
    const byLocalhost = await deliverHttp({
      url: `http://localhost:${srv.port}/`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    expect(byResolver.statusCode).toBe(204);
    expect(byLocalhost.statusCode).toBe(204);
    expect(srv.requests).toHaveLength(2);
    expect(srv.requests[0]?.headers.host).toBe(`rebind.test:${srv.port}`);
  });

  it("keeps the connection open for the next delivery to the same origin", async () => {
    const srv = await startServer((_req, res) =>
      res.writeHead(200, { "content-type": "text/plain" }).end("ok"),
    );
    for (let i = 0; i < 3; i++) {
      const r = await deliverHttp({
        url: `http://127.0.0.1:${srv.port}/h${i}`,
        headers: signed,
        body,
        allowPrivate: true,
      });
      expect(r.statusCode).toBe(200);
    }
    expect(srv.requests.map((r) => r.url)).toEqual(["/h0", "/h1", "/h2"]);
    expect(srv.connections).toBe(1);
  });

  it("closes a connection whose response it stopped reading, or that failed", async () => {
    const srv = await startServer((req, res) => {
      if (req.url === "/big")
        res
          .writeHead(200, { "content-type": "text/plain" })
          .end("x".repeat(64 * 1024));
      else res.writeHead(500).end("no");
    });
    const big = await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/big`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    expect(big.responseExcerpt).toHaveLength(1024);
    await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/big`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    expect(srv.connections).toBe(2);
    // a complete error answer is still a complete answer: its connection is kept
    await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/err`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    await deliverHttp({
      url: `http://127.0.0.1:${srv.port}/err`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    expect(srv.connections).toBe(3);
  });

  it("pools connections apart for targets where private addresses are allowed and where they are not", () => {
    for (const protocol of ["http:", "https:"]) {
      expect(agentFor(protocol, true)).not.toBe(agentFor(protocol, false));
      expect(agentFor(protocol, true)).toBe(agentFor(protocol, true));
    }
    expect(agentFor("https:", false)).not.toBe(agentFor("http:", false));
  });

  it("turns connection and request errors into results instead of throwing", async () => {
    const srv = await startServer(() => {});
    const port = srv.port;
    await new Promise((resolve) => srv.server.close(resolve));
    const refused = await deliverHttp({
      url: `http://127.0.0.1:${port}/`,
      headers: signed,
      body,
      allowPrivate: true,
    });
    expect(refused.statusCode).toBeNull();
    expect(refused.error).toMatch(/ECONNREFUSED/);

    const badHeader = await deliverHttp({
      url: `http://127.0.0.1:${port}/`,
      headers: { "x-bad": "a\nb" },
      body,
      allowPrivate: true,
    });
    expect(badHeader.statusCode).toBeNull();
    expect(badHeader.error).toBeTruthy();

    const dnsFailure = await deliverHttp({
      url: "https://nowhere.test/",
      headers: signed,
      body,
      allowPrivate: false,
      resolveHost: async () => {
        throw Object.assign(new Error("getaddrinfo ENOTFOUND nowhere.test"), {
          code: "ENOTFOUND",
        });
      },
    });
    expect(dnsFailure).toMatchObject({
      statusCode: null,
      error: "getaddrinfo ENOTFOUND nowhere.test",
    });
  });
});

describe("guardedLookup", () => {
  const mixed: ResolveHost = async () => [
    { address: "10.0.0.5", family: 4 },
    { address: "93.184.215.14", family: 4 },
    { address: "::1", family: 6 },
    { address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c", family: 6 },
  ];

  function run(
    allowPrivate: boolean,
    all: boolean,
  ): Promise<{ err: Error | null; address: unknown; family?: number }> {
    return new Promise((resolve) => {
      guardedLookup({ allowPrivate, resolveHost: mixed })(
        "mixed.test",
        { all },
        (err, address, family) => resolve({ err, address, family }),
      );
    });
  }

  it("hands the socket only public addresses", async () => {
    expect(await run(false, true)).toEqual({
      err: null,
      address: [
        { address: "93.184.215.14", family: 4 },
        { address: "2606:2800:21f:cb07:6820:80da:af6b:8b2c", family: 6 },
      ],
      family: undefined,
    });
    expect(await run(false, false)).toEqual({
      err: null,
      address: "93.184.215.14",
      family: 4,
    });
  });

  it("passes every address through when allowPrivate", async () => {
    const { address } = await run(true, true);
    expect(address).toHaveLength(4);
    expect(await run(true, false)).toEqual({
      err: null,
      address: "10.0.0.5",
      family: 4,
    });
  });
});

describe("parseRetryAfter", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  it.each([
    [undefined, undefined],
    ["7", 7],
    [" 120 ", 120],
    ["0", 0],
    ["-5", undefined],
    ["1.5", undefined],
    ["soon", undefined],
    ["Wed, 01 Jan 2025 00:01:30 GMT", 90],
    ["Tue, 31 Dec 2024 23:00:00 GMT", 0],
  ])("%j → %j", (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe("classifyDelivery", () => {
  it.each([
    [200, "success"],
    [204, "success"],
    [299, "success"],
    [301, "retry"],
    [302, "retry"],
    [304, "retry"],
    [400, "retry"],
    [404, "retry"],
    [410, "gone"],
    [429, "retry"],
    [500, "retry"],
    [null, "retry"],
  ] as const)("%s → %s", (statusCode, outcome) => {
    expect(classifyDelivery({ statusCode })).toBe(outcome);
  });
});
