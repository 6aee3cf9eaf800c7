import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import {
  createSignInLink,
  getAuth,
  getSessionFromHeaders,
  hashSessionToken,
} from "@/server/auth";
import { hashToken } from "@/server/auth-tokens";
import { bootstrap } from "@/server/bootstrap";
import { allRoutes } from "@/server/http/routes";
import { api, operator } from "../helpers/api";
import {
  fillPath,
  routeKey,
  SAMPLE_QUERY,
  securityWorld,
  withQuery,
} from "../helpers/security-world";
import type { SecurityWorld } from "../helpers/security-world";
import { callerFor } from "../helpers/trpc";

// Bearer secrets and session tokens exist in plaintext only in the answer that made them (and the
// cookie): every row of every table, in every schema, holds at most their hash. Webhook signing
// secrets are readable only in the answer that made them.

type Secret = { what: string; value: string; hash?: string };

// Every row of every base table outside the system schemas, as text (covers text, jsonb, arrays).
async function dumpDatabase(): Promise<Map<string, string>> {
  const db = await getDb();
  const tables = await rawRows<{ s: string; t: string }>(
    db,
    sql`select table_schema as s, table_name as t from information_schema.tables
        where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`,
  );
  const out = new Map<string, string>();
  for (const { s, t } of tables) {
    const rows = await rawRows<{ r: string }>(
      db,
      sql.raw(`select x::text as r from "${s}"."${t}" x`),
    );
    out.set(`${s}.${t}`, rows.map((r) => r.r).join("\n"));
  }
  return out;
}

function findIn(dump: Map<string, string>, needle: string): string[] {
  return [...dump].filter(([, text]) => text.includes(needle)).map(([t]) => t);
}

async function signIn(email: string): Promise<string> {
  const auth = await getAuth();
  const url = await createSignInLink(await getDb(), email, {
    callbackPath: "/overview",
  });
  const res = await auth.handler(
    new Request(url, { headers: { "x-forwarded-for": "10.9.0.1" } }),
  );
  expect(res.status).toBe(302);
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .join("; ");
  const m = /better-auth\.session_token=([^;]+)/.exec(cookie);
  expect(m, "no session cookie").toBeTruthy();
  // the cookie is "<token>.<signature>"
  const token = decodeURIComponent(m![1]!).split(".")[0]!;
  // use the session (better-auth may refresh or update the row) and switch its tenant
  const session = await getSessionFromHeaders(new Headers({ cookie }));
  expect(session?.email).toBe(email);
  return token;
}

let W: SecurityWorld;
const secrets: Secret[] = [];

beforeAll(async () => {
  const db = await getDb();
  // the first start's operator token (printed once)
  const boot = await bootstrap(db);
  expect(boot.operatorToken).toMatch(/^pwo_/);
  secrets.push({
    what: "bootstrap operator token",
    value: boot.operatorToken!,
    hash: hashToken(boot.operatorToken!),
  });
  const op = await operator();
  secrets.push({ what: "operator token", value: op, hash: hashToken(op) });
  W = await securityWorld();
  secrets.push({
    what: "host token",
    value: W.hostToken,
    hash: hashToken(W.hostToken),
  });
  secrets.push({ what: "API key", value: W.apiKey, hash: hashToken(W.apiKey) });
  secrets.push({
    what: "feed token",
    value: W.feedToken,
    hash: hashToken(W.feedToken),
  });
  // more of each kind, from the API and the console
  const tok2 = await api("POST", `/api/v1/admin/hosts/${W.hostId}/tokens`, {
    token: op,
  });
  secrets.push({
    what: "second host token",
    value: tok2.body.token,
    hash: hashToken(tok2.body.token),
  });
  const owner = `owner@${W.tenantId}.example`;
  expect(
    (
      await api("POST", `/api/v1/admin/tenants/${W.tenantId}/members`, {
        token: op,
        body: { email: owner, role: "owner" },
      })
    ).status,
  ).toBe(201);
  const consoleKey = await (
    await callerFor(owner)
  ).settings.createApiKey({ name: "at rest" });
  secrets.push({
    what: "console API key",
    value: consoleKey.key,
    hash: hashToken(consoleKey.key),
  });
  // used once each, so lastUsedAt and friends are written
  expect(
    (
      await api(
        "GET",
        `/api/v1/feeds/incidents.atom?token=${encodeURIComponent(W.feedToken)}`,
      )
    ).status,
  ).toBe(200);
  expect(
    (await api("GET", "/api/v1/vms", { token: consoleKey.key })).status,
  ).toBe(200);
  expect(
    (await api("GET", `/api/v1/admin/hosts/${W.hostId}/health`, { token: op }))
      .status,
  ).toBe(200);
  // better-auth sessions, two people
  for (const email of [owner, `viewer@${W.tenantId}.example`]) {
    if (email !== owner)
      await api("POST", `/api/v1/admin/tenants/${W.tenantId}/members`, {
        token: op,
        body: { email, role: "viewer" },
      });
    const token = await signIn(email);
    secrets.push({
      what: `session token of ${email}`,
      value: token,
      hash: hashSessionToken(token),
    });
  }
});

describe("secrets at rest", () => {
  it("stores no operator token, host token, API key or session token in plaintext, in any table of any schema", async () => {
    const dump = await dumpDatabase();
    expect(dump.size).toBeGreaterThan(10);
    for (const s of secrets) {
      const body = s.value.replace(/^pw[ohkf]_/, "");
      expect(body.length, s.what).toBeGreaterThanOrEqual(32);
      for (const form of new Set([
        s.value,
        body,
        encodeURIComponent(s.value),
        Buffer.from(s.value).toString("base64"),
      ])) {
        expect(findIn(dump, form), `${s.what} found in plaintext`).toEqual([]);
      }
    }
  });

  it("keeps what it needs to check them: their hashes (so the dump above looked in the right places)", async () => {
    const dump = await dumpDatabase();
    for (const s of secrets) {
      if (s.what === "bootstrap operator token") continue; // replaced by the test operator token
      expect(
        findIn(dump, s.hash!).length,
        `${s.what}: its hash is stored`,
      ).toBeGreaterThan(0);
    }
  });

  it("does not accept the stored hash as a credential", async () => {
    for (const s of secrets.filter(
      (x) =>
        !x.what.startsWith("session") && x.what !== "bootstrap operator token",
    )) {
      const r = await api("GET", "/api/v1/vms", { token: s.hash });
      expect(r.status, s.what).toBe(401);
    }
    const [row] = await rawRows<{ token: string }>(
      await getDb(),
      sql`select token from auth_sessions limit 1`,
    );
    expect(row!.token).toMatch(/^h1:/);
    const session = await getSessionFromHeaders(
      new Headers({
        cookie: `better-auth.session_token=${encodeURIComponent(row!.token)}`,
      }),
    );
    expect(session).toBeNull();
  });
});

describe("webhook signing secrets", () => {
  const WHSEC = /whsec_/;

  async function tenantGets(w: SecurityWorld): Promise<string> {
    // every tenant GET of the route table, as the key's tenant sees it
    let all = "";
    for (const r of allRoutes.filter(
      (x) => x.method === "GET" && x.auth.includes("tenant"),
    )) {
      const a = await api(
        "GET",
        withQuery(fillPath(r, w), SAMPLE_QUERY[routeKey(r)]?.(w)),
        { token: w.apiKey },
      );
      expect(a.status, routeKey(r)).toBe(200);
      all += JSON.stringify(a.body);
    }
    return all;
  }

  it("are answered when made and on rotation, never by a list, a PATCH or any other tenant answer", async () => {
    const w = await securityWorld();
    expect(w.webhookSecret).toMatch(/^whsec_/);
    let seen = await tenantGets(w);
    expect(seen).not.toMatch(WHSEC);
    const patched = await api("PATCH", `/api/v1/webhooks/${w.webhookId}`, {
      token: w.apiKey,
      body: { description: "renamed" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body.secret).toBeUndefined();
    expect(JSON.stringify(patched.body)).not.toMatch(WHSEC);
    const reenabled = await api("PATCH", `/api/v1/webhooks/${w.webhookId}`, {
      token: w.apiKey,
      body: { status: "enabled" },
    });
    expect(JSON.stringify(reenabled.body)).not.toMatch(WHSEC);
    for (const [method, path] of [
      ["POST", `/api/v1/webhooks/${w.webhookId}/test`],
      [
        "POST",
        `/api/v1/webhooks/${w.webhookId}/deliveries/${w.deliveryId}/retry`,
      ],
    ] as const) {
      const r = await api(method, path, { token: w.apiKey });
      expect(r.status, path).toBeLessThan(300);
      expect(JSON.stringify(r.body)).not.toMatch(WHSEC);
    }
    const rotated = await api(
      "POST",
      `/api/v1/webhooks/${w.webhookId}/rotate-secret`,
      { token: w.apiKey },
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(w.webhookSecret);
    seen = await tenantGets(w);
    expect(seen).not.toMatch(WHSEC);
    expect(seen).not.toContain(rotated.body.secret.slice(6));
    expect(seen).not.toContain(w.webhookSecret.slice(6));
  });

  it("of the control-plane callback are answered when first made and on rotateSecret only", async () => {
    const op = await operator();
    const url = "https://control-plane.example.com/poisonwatch";
    const first = await api("PUT", "/api/v1/admin/callback", {
      token: op,
      body: { url },
    });
    expect(first.status).toBe(200);
    const again = await api("PUT", "/api/v1/admin/callback", {
      token: op,
      body: { url: url + "/v2" },
    });
    expect(again.status).toBe(200);
    expect(again.body.secret).toBeUndefined();
    const rotated = await api("PUT", "/api/v1/admin/callback", {
      token: op,
      body: { url, rotateSecret: true },
    });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    const after = await api("PUT", "/api/v1/admin/callback", {
      token: op,
      body: { url, rotateSecret: false },
    });
    expect(after.body).toEqual({ url });
    // no operator GET answers a signing secret either
    for (const r of allRoutes.filter(
      (x) =>
        x.method === "GET" &&
        x.auth.includes("operator") &&
        !x.path.includes("{"),
    )) {
      const a = await api("GET", r.path, { token: op });
      expect(a.status, routeKey(r)).toBe(200);
      expect(
        typeof a.body === "string" ? a.body : JSON.stringify(a.body),
        routeKey(r),
      ).not.toMatch(WHSEC);
    }
  });

  it("never appear in credential lists (host tokens, API keys)", async () => {
    const op = await operator();
    const t = await api("GET", `/api/v1/admin/hosts/${W.hostId}/tokens`, {
      token: op,
    });
    const k = await api("GET", `/api/v1/admin/tenants/${W.tenantId}/api-keys`, {
      token: op,
    });
    const s = JSON.stringify([t.body, k.body]);
    for (const x of secrets) expect(s).not.toContain(x.value);
    expect(s).not.toMatch(/pw[ohk]_|hash/i);
  });
});
