import { itWhen } from "../helpers/it-when";
import { createHmac } from "node:crypto";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { getDb, getDbHandle } from "@/db";
import type { Role } from "@/db/constants";
import { ROLES } from "@/db/constants";
import { rawRows } from "@/db/client";
import {
  createSignInLink,
  DEMO_OPERATOR_SETTING,
  getAuth,
  getSessionFromHeaders,
  isOperatorEmail,
} from "@/server/auth";
import { bootstrap } from "@/server/bootstrap";
import { setClock } from "@/server/clock";
import {
  MAX_WEBHOOK_ENDPOINTS,
  WEBHOOK_ACTION_LIMITS,
} from "@/server/notify/tenant-caps";
import type { SessionUser } from "@/server/auth";
import { hashToken, newSecretToken } from "@/server/auth-tokens";
import { emails as emailsTable } from "@/db/schema";
import { env, resetEnvCache, validateEnv } from "@/server/env";
import { getBoss } from "@/server/jobs/boss";
import type { AuthKind } from "@/server/http/principal";
import type { RouteDef } from "@/server/http/router";
import { allRoutes } from "@/server/http/routes";
import { getSetting, putSetting } from "@/server/app-settings";
import { operatorProcedure, router } from "@/server/trpc/init";
import { roleAtLeast } from "@/server/tenants/members";
import { api, fleet, operator, uid } from "../helpers/api";
import { gpaOf, memoryEvent } from "../helpers/events";
import type { SecurityWorld } from "../helpers/security-world";
import {
  expectErrorBody,
  fillPath,
  paramNames,
  PATH_PARAM,
  routeKey,
  SAMPLE_BODY,
  SAMPLE_QUERY,
  securityWorld,
  withQuery,
} from "../helpers/security-world";
import { callPath, codeOf, procedurePaths } from "../helpers/trpc-procedures";
import type { Caller, TenantWorld } from "../helpers/trpc";
import { callerFor, expectTRPCError, tenantWorld } from "../helpers/trpc";

// Every REST route (from the route table, so a new route is probed without touching this file)
// with every kind of credential, and every tRPC procedure (from the router's procedure map) with
// no session, each role, another tenant's ids and the operator's role.

type Cred = {
  name: string;
  kind: "none" | "invalid" | AuthKind;
  headers: Record<string, string>;
};

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

let B: SecurityWorld;
let invalid: Cred[];

beforeAll(async () => {
  const op = await operator();
  B = await securityWorld();
  // revoked credentials of every revocable kind
  const r = await fleet();
  const feed = await api("POST", "/api/v1/feed-tokens", { token: r.apiKey });
  const revokedFeed = feed.body.token as string;
  expect(
    (
      await api("DELETE", `/api/v1/feed-tokens/${feed.body.id}`, {
        token: r.apiKey,
      })
    ).status,
  ).toBe(204);
  const tokens = await api("GET", `/api/v1/admin/hosts/${r.hostId}/tokens`, {
    token: op,
  });
  const keys = await api(
    "GET",
    `/api/v1/admin/tenants/${r.tenantId}/api-keys`,
    { token: op },
  );
  expect(
    (
      await api(
        "DELETE",
        `/api/v1/admin/hosts/${r.hostId}/tokens/${tokens.body.data[0].id}`,
        { token: op },
      )
    ).status,
  ).toBe(204);
  expect(
    (
      await api(
        "DELETE",
        `/api/v1/admin/tenants/${r.tenantId}/api-keys/${keys.body.data[0].id}`,
        { token: op },
      )
    ).status,
  ).toBe(204);
  invalid = [
    { name: "no credential", kind: "none", headers: {} },
    { name: "a garbage bearer", kind: "invalid", headers: bearer("garbage") },
    {
      name: "an empty bearer",
      kind: "invalid",
      headers: { authorization: "Bearer " },
    },
    {
      name: "two bearer values",
      kind: "invalid",
      headers: { authorization: `Bearer ${op} ${op}` },
    },
    {
      name: "the operator token under Basic",
      kind: "invalid",
      headers: {
        authorization: `Basic ${Buffer.from(`x:${op}`).toString("base64")}`,
      },
    },
    {
      name: "the operator token in a query-like header",
      kind: "invalid",
      headers: { "x-api-key": op },
    },
    {
      name: "the stored hash of the operator token",
      kind: "invalid",
      headers: bearer(hashToken(op)),
    },
    {
      name: "the operator token with one more character",
      kind: "invalid",
      headers: bearer(op + "A"),
    },
    {
      name: "an operator token never issued",
      kind: "invalid",
      headers: bearer(newSecretToken("operator")),
    },
    {
      name: "a host token never issued",
      kind: "invalid",
      headers: bearer(newSecretToken("host")),
    },
    {
      name: "an API key never issued",
      kind: "invalid",
      headers: bearer(newSecretToken("tenant")),
    },
    {
      name: "a revoked host token",
      kind: "invalid",
      headers: bearer(r.hostToken),
    },
    { name: "a revoked API key", kind: "invalid", headers: bearer(r.apiKey) },
    {
      name: "a feed token never issued",
      kind: "invalid",
      headers: bearer(newSecretToken("feed")),
    },
    {
      name: "a revoked feed token",
      kind: "invalid",
      headers: bearer(revokedFeed),
    },
  ];
});

function validCreds(w: SecurityWorld, op: string): Cred[] {
  return [
    { name: "a host token", kind: "host", headers: bearer(w.hostToken) },
    { name: "a tenant API key", kind: "tenant", headers: bearer(w.apiKey) },
    { name: "the operator token", kind: "operator", headers: bearer(op) },
    { name: "a feed token", kind: "feed", headers: bearer(w.feedToken) },
  ];
}

function requestOf(
  route: RouteDef,
  w: SecurityWorld,
  override: Record<string, string> = {},
) {
  const key = routeKey(route);
  const path = withQuery(fillPath(route, w, override), SAMPLE_QUERY[key]?.(w));
  const body = SAMPLE_BODY[key]?.(w);
  const contentType =
    key === "POST /api/v1/events" ? "application/cloudevents+json" : undefined;
  return { path, body, contentType };
}

async function call(
  route: RouteDef,
  w: SecurityWorld,
  headers: Record<string, string>,
  override: Record<string, string> = {},
) {
  const { path, body, contentType } = requestOf(route, w, override);
  const r = await api(route.method, path, { headers, body, contentType });
  return { ...r, path };
}

// B's values a foreign answer must not hold (besides the ids the request itself named).
function foreignValues(b: SecurityWorld): string[] {
  return [
    b.tenantId,
    b.projectId,
    b.hostId,
    ...b.vmIds,
    b.incidentId,
    b.logEntryId,
    b.webhookId,
    b.webhookSecret,
    b.deliveryId,
    b.messageId,
    b.evacuationId,
    b.tokenId,
    b.keyId,
    b.apiKey,
    b.hostToken,
    b.webhookUrl,
    b.feedToken,
    b.feedTokenId,
    b.channelId,
    b.channelUrl,
  ];
}

function expectNoForeignData(body: unknown, path: string, b: SecurityWorld) {
  const s = JSON.stringify(body) ?? "";
  const named = decodeURIComponent(path);
  for (const v of foreignValues(b)) {
    if (named.includes(v)) continue;
    expect(s, `${path} leaked ${v}`).not.toContain(v);
  }
}

// /api/health answers 503 while the workers are down (as in these tests): it has its own test
const routes = allRoutes
  .filter((r) => r.path.startsWith("/api/v1/"))
  .map((r) => ({ name: routeKey(r), route: r }));

describe("REST route table", () => {
  it("has a world id for every path parameter", () => {
    const unknown = [...new Set(allRoutes.flatMap(paramNames))].filter(
      (p) => !PATH_PARAM[p],
    );
    expect(
      unknown,
      "add these to PATH_PARAM in tests/helpers/security-world.ts",
    ).toEqual([]);
  });

  it("has a sample body for every route that validates one", () => {
    const missing = allRoutes
      .filter((r) => (r.body || r.rawBody) && !SAMPLE_BODY[routeKey(r)])
      .map(routeKey);
    expect(
      missing,
      "add these to SAMPLE_BODY in tests/helpers/security-world.ts",
    ).toEqual([]);
  });

  it("names every route's credential kinds, and only known ones", () => {
    for (const r of allRoutes) {
      expect(r.auth.length, routeKey(r)).toBeGreaterThan(0);
      for (const k of r.auth)
        expect(["none", "operator", "host", "tenant", "feed"]).toContain(k);
      // an open route must say so alone: "none" beside a kind would make the kind meaningless
      if (r.auth.includes("none"))
        expect(r.auth, routeKey(r)).toEqual(["none"]);
    }
    // the only open routes are the OpenAPI document and the liveness check
    expect(
      allRoutes.filter((r) => r.auth.includes("none")).map(routeKey),
    ).toEqual(["GET /api/v1/openapi.json", "GET /api/health"]);
  });
});

describe.each(routes)("REST $name", ({ route }) => {
  it("answers 401 without a valid credential, 403 for the wrong kind, and works for the right kind; never 5xx", async () => {
    const op = await operator();
    // a world of its own: the right credential may revoke, delete or cancel what the path names
    const w = await securityWorld();
    const open = route.auth.includes("none");
    for (const c of invalid) {
      const r = await call(route, w, c.headers);
      const what = `${route.method} ${r.path} with ${c.name}`;
      expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBeLessThan(500);
      expect(r.headers.get("cache-control"), what).toBe("no-store");
      if (open) {
        expect(r.status, what).toBe(200);
        continue;
      }
      expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(401);
      expectErrorBody(r.status, r.body, what);
      expect(r.body.error.code).toBe("unauthorized");
    }
    const creds = validCreds(w, op);
    // the right kind last, after the refusals (it may change what the path names)
    creds.sort(
      (a, b) =>
        Number(route.auth.includes(a.kind as AuthKind)) -
        Number(route.auth.includes(b.kind as AuthKind)),
    );
    for (const c of creds) {
      const r = await call(route, w, c.headers);
      const what = `${route.method} ${r.path} with ${c.name}`;
      expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBeLessThan(500);
      if (r.status !== 204)
        expect(r.headers.get("cache-control"), what).toBe("no-store");
      if (open || route.auth.includes(c.kind as AuthKind)) {
        expect(
          r.status,
          `${what}: ${JSON.stringify(r.body)}`,
        ).toBeGreaterThanOrEqual(200);
        expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBeLessThan(
          300,
        );
      } else {
        expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(403);
        expectErrorBody(r.status, r.body, what);
        expect(r.body.error.code).toBe("forbidden");
        // refused before anything about the resource is said
        expect(JSON.stringify(r.body)).not.toContain(w.tenantId);
      }
    }
  });

  const tenantRoute = route.auth.includes("tenant");
  const params = paramNames(route);

  itWhen(tenantRoute && params.length > 0)(
    "answers 404 to tenant A's key for tenant B's ids, with none of B's data, and changes nothing of B's",
    async () => {
      const A = await securityWorld();
      const before = await snapshotOf(B);
      // every parameter from B, then each parameter alone from B beside A's others
      const overrides: Record<string, string>[] = [
        Object.fromEntries(params.map((p) => [p, PATH_PARAM[p]!(B)])),
      ];
      if (params.length > 1)
        for (const p of params) overrides.push({ [p]: PATH_PARAM[p]!(B) });
      for (const o of overrides) {
        const r = await call(route, A, bearer(A.apiKey), o);
        const what = `${route.method} ${r.path} with A's key`;
        expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(404);
        expectErrorBody(r.status, r.body, what);
        expectNoForeignData(r.body, r.path, B);
      }
      expect(await snapshotOf(B)).toEqual(before);
    },
  );

  const queryShape =
    route.query instanceof z.ZodObject
      ? (route.query.shape as Record<string, unknown>)
      : {};
  const foreignFilters = [
    "vmId",
    "projectId",
    "incidentId",
    "hostId",
    "tenantId",
  ].filter((k) => k in queryShape);

  itWhen(tenantRoute)(
    "holds only tenant A's data for A's key, also when filtered by B's ids",
    async () => {
      const A = await securityWorld();
      const r = await call(route, A, bearer(A.apiKey));
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
      expectNoForeignData(r.body, r.path, B);
      if (route.method !== "GET" || foreignFilters.length === 0) return;
      const filter: Record<string, string> = {};
      for (const k of foreignFilters) {
        filter[k] =
          k === "vmId"
            ? B.vmId
            : k === "projectId"
              ? B.projectId
              : k === "incidentId"
                ? B.incidentId
                : k === "hostId"
                  ? B.hostId
                  : B.tenantId;
      }
      for (const [k, v] of Object.entries(filter)) {
        const path = withQuery(fillPath(route, A), { [k]: v });
        const f = await api("GET", path, { token: A.apiKey });
        expect(f.status, `${path}: ${JSON.stringify(f.body)}`).toBe(200);
        // a file download (the export) has no list: it must be empty, or the CSV header alone
        if (route.responses[200]?.contentType)
          expect(
            String(f.body ?? "")
              .split("\r\n")
              .filter((l) => l && !l.startsWith("insertId,")),
            path,
          ).toEqual([]);
        else expect(f.body.data, path).toEqual([]);
        expectNoForeignData(f.body, path, B);
      }
    },
  );
});

describe("REST: references to another tenant's rows in a body", () => {
  it("are unknown ids (400), never a subscription to B's project", async () => {
    const A = await securityWorld();
    const before = await snapshotOf(B);
    const made = await api("POST", "/api/v1/webhooks", {
      token: A.apiKey,
      body: {
        url: "https://hooks.example.com/cross",
        eventTypes: ["incident.opened"],
        projectIds: [B.projectId],
      },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(400);
    expectErrorBody(
      made.status,
      made.body,
      "POST /api/v1/webhooks with B's project",
    );
    const patched = await api("PATCH", `/api/v1/webhooks/${A.webhookId}`, {
      token: A.apiKey,
      body: { projectIds: [A.projectId, B.projectId] },
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(400);
    expectNoForeignData([made.body, patched.body], `/${B.projectId}`, B);
    expect(await snapshotOf(B)).toEqual(before);
  });
});

// Feed readers can only put the secret in the URL: the same refusals through ?token=, and a
// feed holds only its own tenant's data.
describe.each(routes.filter(({ route }) => route.auth.includes("feed")))(
  "REST $name with ?token=",
  ({ route }) => {
    it("answers 401 for a wrong or revoked token, 403 for another kind, and only A's data for A's token", async () => {
      const op = await operator();
      const A = await securityWorld();
      const revoked = await api("POST", "/api/v1/feed-tokens", {
        token: A.apiKey,
      });
      await api("DELETE", `/api/v1/feed-tokens/${revoked.body.id}`, {
        token: A.apiKey,
      });
      const refusals: [string, string, number][] = [
        ["an empty token", "", 401],
        ["a token never issued", newSecretToken("feed"), 401],
        ["a revoked token", revoked.body.token, 401],
        ["the stored hash of A's token", hashToken(A.feedToken), 401],
        ["A's token with one more character", `${A.feedToken}A`, 401],
        ["A's API key", A.apiKey, 403],
        ["A's host token", A.hostToken, 403],
        ["the operator token", op, 403],
      ];
      for (const [name, token, status] of refusals) {
        const path = withQuery(route.path, { token });
        const r = await api("GET", path);
        const what = `${path} with ${name}`;
        expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(status);
        expectErrorBody(r.status, r.body, what);
        expect(JSON.stringify(r.body)).not.toContain(A.tenantId);
      }
      const ok = await api(
        "GET",
        withQuery(route.path, { token: A.feedToken }),
      );
      expect(ok.status, String(ok.body)).toBe(200);
      expect(ok.headers.get("cache-control")).toBe("no-store");
      expect(String(ok.body)).toContain(A.vmId);
      expectNoForeignData(ok.body, route.path, B);
    });
  },
);

// What tenant B's own key sees of its webhook, deliveries, settings, incident and VMs.
async function snapshotOf(b: SecurityWorld) {
  const get = async (path: string) => {
    const r = await api("GET", path, { token: b.apiKey });
    expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(200);
    return r.body;
  };
  return {
    webhooks: await get("/api/v1/webhooks"),
    deliveries: await get(`/api/v1/webhooks/${b.webhookId}/deliveries`),
    channels: await get("/api/v1/channels"),
    channelDeliveries: await get(`/api/v1/channels/${b.channelId}/deliveries`),
    settings: await get("/api/v1/notification-settings"),
    incident: await get(`/api/v1/incidents/${b.incidentId}`),
    vms: await get("/api/v1/vms"),
    feedTokens: await get("/api/v1/feed-tokens"),
  };
}

// ---- tRPC ------------------------------------------------------------------------------------

// Who may call what, from spec.md ("Users"): a viewer reads everything of the tenant; a member
// also manages webhooks and notification settings; an owner also manages members and API keys
// (and reads the audit log); "session" is anyone signed in; "operator" the operator console.
type Access = Role | "session" | "operator";

type ProcCase = {
  access: Access;
  run: (c: Caller, A: TenantWorld) => Promise<unknown>;
  // the same call naming tenant B's row, made by A's owner: NOT_FOUND
  foreign?: (c: Caller, B: TenantWorld) => Promise<unknown>;
};

async function freshMemberId(
  A: TenantWorld,
  role: Role = "viewer",
): Promise<string> {
  const owner = await callerFor(A.emails.owner);
  return (
    await owner.settings.inviteMember({
      email: `${uid("m")}@${A.tenantId}.example`,
      role,
    })
  ).id;
}

// A fresh incident of the tenant whose VM's evacuation is scheduled (each call its own: a start ends it).
async function scheduledIncidentOf(W: TenantWorld): Promise<string> {
  const op = await operator();
  const vmId = uid("vm");
  await api("PUT", `/api/v1/admin/vms/${vmId}`, {
    token: op,
    body: {
      projectId: W.projectId,
      name: "sched-1",
      zone: "zone-a",
      hostId: W.hostId,
      placedAt: "2020-01-01T00:00:00Z",
    },
  });
  expect(
    (
      await api("POST", "/api/v1/events", {
        token: W.hostToken,
        body: memoryEvent({ hostId: W.hostId, vmId }),
      })
    ).status,
  ).toBe(200);
  expect(
    (
      await api("POST", `/api/v1/admin/vms/${vmId}/evacuate`, {
        token: op,
        body: {},
      })
    ).status,
  ).toBe(202);
  const list = await api("GET", `/api/v1/incidents?vmId=${vmId}`, {
    token: W.apiKey,
  });
  return list.body.data[0].id as string;
}

// A PagerDuty channel of a tenant, made once per tenant world.
const channelsOf = new Map<string, Promise<string>>();
function channelOf(W: TenantWorld): Promise<string> {
  if (!channelsOf.has(W.tenantId)) channelsOf.set(W.tenantId, freshChannel(W));
  return channelsOf.get(W.tenantId)!;
}
async function freshChannel(W: TenantWorld): Promise<string> {
  const owner = await callerFor(W.emails.owner);
  return (
    await owner.channel.create({
      kind: "pagerduty",
      routingKey: "M4tr1xR0ut1ngKey0000000000000000",
    })
  ).id;
}

// A webhook endpoint of a tenant with one (test) delivery, made once per tenant world.
const hooks = new Map<string, Promise<{ id: string; deliveryId: string }>>();
function hookOf(W: TenantWorld): Promise<{ id: string; deliveryId: string }> {
  if (!hooks.has(W.tenantId)) hooks.set(W.tenantId, freshHook(W));
  return hooks.get(W.tenantId)!;
}
async function freshHook(
  W: TenantWorld,
): Promise<{ id: string; deliveryId: string }> {
  const owner = await callerFor(W.emails.owner);
  const { id } = await owner.notification.createWebhook({
    url: "https://hooks.example.com/matrix",
    eventTypes: ["incident.opened"],
  });
  await owner.notification.sendTest({ id });
  const deliveryId = (
    await owner.notification.listDeliveries({ endpointId: id })
  ).data[0]!.id;
  return { id, deliveryId };
}

const PROCEDURES: Record<string, ProcCase> = {
  "feed.listTokens": {
    access: "viewer",
    run: (c) => c.feed.listTokens(),
  },
  "feed.createToken": {
    access: "member",
    run: (c) => c.feed.createToken(),
  },
  "feed.revokeToken": {
    access: "member",
    run: async (c, A) =>
      c.feed.revokeToken({
        id: (await (await callerFor(A.emails.owner)).feed.createToken()).id,
      }),
    foreign: async (c, B) =>
      c.feed.revokeToken({
        id: (await (await callerFor(B.emails.owner)).feed.createToken()).id,
      }),
  },
  "incident.list": { access: "viewer", run: (c) => c.incident.list({}) },
  "incident.byId": {
    access: "viewer",
    run: (c, A) => c.incident.byId({ id: A.incidentId }),
    foreign: (c, B) => c.incident.byId({ id: B.incidentId }),
  },
  "incident.overview": { access: "viewer", run: (c) => c.incident.overview() },
  "incident.stamp": { access: "viewer", run: (c) => c.incident.stamp() },
  "incident.startEvacuation": {
    access: "member",
    run: async (c, A) =>
      c.incident.startEvacuation({ id: await scheduledIncidentOf(A) }),
    foreign: async (c, B) =>
      c.incident.startEvacuation({ id: await scheduledIncidentOf(B) }),
  },
  "incident.deferEvacuation": {
    access: "member",
    run: async (c, A) =>
      c.incident.deferEvacuation({
        id: await scheduledIncidentOf(A),
        until: new Date(Date.now() + 3600_000).toISOString(),
      }),
    foreign: async (c, B) =>
      c.incident.deferEvacuation({
        id: await scheduledIncidentOf(B),
        until: new Date(Date.now() + 3600_000).toISOString(),
      }),
  },
  "project.list": { access: "viewer", run: (c) => c.project.list() },
  "project.maintenanceWindow": {
    access: "viewer",
    run: (c, A) => c.project.maintenanceWindow({ projectId: A.projectId }),
    foreign: (c, B) => c.project.maintenanceWindow({ projectId: B.projectId }),
  },
  "project.setMaintenanceWindow": {
    access: "member",
    run: (c, A) =>
      c.project.setMaintenanceWindow({
        projectId: A.projectId,
        window: {
          days: ["sun"],
          start: "04:30",
          durationMinutes: 60,
          timeZone: "UTC",
        },
      }),
    foreign: (c, B) =>
      c.project.setMaintenanceWindow({ projectId: B.projectId, window: null }),
  },
  "logEntry.list": { access: "viewer", run: (c) => c.logEntry.list({}) },
  "logEntry.histogram": {
    access: "viewer",
    run: (c) => c.logEntry.histogram({}),
  },
  "logEntry.byId": {
    access: "viewer",
    run: (c, A) => c.logEntry.byId({ insertId: A.logEntryId }),
    foreign: (c, B) => c.logEntry.byId({ insertId: B.logEntryId }),
  },
  "logEntry.filters": { access: "viewer", run: (c) => c.logEntry.filters() },
  "notification.settings": {
    access: "viewer",
    run: (c) => c.notification.settings(),
  },
  "notification.updateSettings": {
    access: "member",
    run: (c) => c.notification.updateSettings({ minSeverity: "WARNING" }),
  },
  "channel.kinds": { access: "viewer", run: (c) => c.channel.kinds() },
  "channel.list": { access: "viewer", run: (c) => c.channel.list({}) },
  "channel.byId": {
    access: "viewer",
    run: async (c, A) => c.channel.byId({ id: await channelOf(A) }),
    foreign: async (c, B) => c.channel.byId({ id: await channelOf(B) }),
  },
  "channel.create": {
    access: "member",
    run: (c) =>
      c.channel.create({
        kind: "teams",
        url: "https://hooks.example.com/teams/made",
      }),
  },
  "channel.update": {
    access: "member",
    run: async (c, A) =>
      c.channel.update({ id: await channelOf(A), description: "matrix" }),
    foreign: async (c, B) =>
      c.channel.update({ id: await channelOf(B), status: "disabled" }),
  },
  "channel.delete": {
    access: "member",
    run: async (c, A) => c.channel.delete({ id: await freshChannel(A) }),
    foreign: async (c, B) => c.channel.delete({ id: await channelOf(B) }),
  },
  "channel.sendTest": {
    access: "member",
    run: async (c, A) => c.channel.sendTest({ id: await channelOf(A) }),
    foreign: async (c, B) => c.channel.sendTest({ id: await channelOf(B) }),
  },
  "channel.deliveries": {
    access: "viewer",
    run: async (c, A) => c.channel.deliveries({ id: await channelOf(A) }),
    foreign: async (c, B) => c.channel.deliveries({ id: await channelOf(B) }),
  },
  "notification.listWebhooks": {
    access: "viewer",
    run: (c) => c.notification.listWebhooks({}),
  },
  "notification.webhookById": {
    access: "viewer",
    run: async (c, A) =>
      c.notification.webhookById({ id: (await hookOf(A)).id }),
    foreign: async (c, B) =>
      c.notification.webhookById({ id: (await hookOf(B)).id }),
  },
  "notification.createWebhook": {
    access: "member",
    run: (c) =>
      c.notification.createWebhook({
        url: "https://hooks.example.com/made",
        eventTypes: ["incident.resolved"],
      }),
  },
  "notification.updateWebhook": {
    access: "member",
    run: async (c, A) =>
      c.notification.updateWebhook({
        id: (await hookOf(A)).id,
        description: "matrix",
      }),
    foreign: async (c, B) =>
      c.notification.updateWebhook({
        id: (await hookOf(B)).id,
        status: "disabled",
      }),
  },
  "notification.deleteWebhook": {
    access: "member",
    run: async (c, A) =>
      c.notification.deleteWebhook({ id: (await freshHook(A)).id }),
    foreign: async (c, B) =>
      c.notification.deleteWebhook({ id: (await hookOf(B)).id }),
  },
  "notification.sendTest": {
    access: "member",
    run: async (c, A) => c.notification.sendTest({ id: (await hookOf(A)).id }),
    foreign: async (c, B) =>
      c.notification.sendTest({ id: (await hookOf(B)).id }),
  },
  "notification.rotateSecret": {
    access: "member",
    run: async (c, A) =>
      c.notification.rotateSecret({ id: (await hookOf(A)).id }),
    foreign: async (c, B) =>
      c.notification.rotateSecret({ id: (await hookOf(B)).id }),
  },
  "notification.listDeliveries": {
    access: "viewer",
    run: async (c, A) =>
      c.notification.listDeliveries({ endpointId: (await hookOf(A)).id }),
    foreign: async (c, B) =>
      c.notification.listDeliveries({ endpointId: (await hookOf(B)).id }),
  },
  "notification.retryDelivery": {
    access: "member",
    run: async (c, A) =>
      c.notification.retryDelivery({
        endpointId: (await hookOf(A)).id,
        deliveryId: (await hookOf(A)).deliveryId,
      }),
    foreign: async (c, B) =>
      c.notification.retryDelivery({
        endpointId: (await hookOf(B)).id,
        deliveryId: (await hookOf(B)).deliveryId,
      }),
  },
  "notification.recover": {
    access: "member",
    run: async (c, A) =>
      c.notification.recover({
        endpointId: (await hookOf(A)).id,
        since: new Date(Date.now() - 3600_000).toISOString(),
      }),
    foreign: async (c, B) =>
      c.notification.recover({
        endpointId: (await hookOf(B)).id,
        since: new Date(Date.now() - 3600_000).toISOString(),
      }),
  },
  // the operator console; called by path, so this table does not depend on the router's types
  "operator.overview": {
    access: "operator",
    run: (c) => callPath(c, "operator.overview", undefined),
  },
  "operator.hosts": {
    access: "operator",
    run: (c) => callPath(c, "operator.hosts", {}),
  },
  "operator.host": {
    access: "operator",
    run: (c, A) => callPath(c, "operator.host", { hostId: A.hostId }),
  },
  "operator.uncorrelated": {
    access: "operator",
    run: (c) => callPath(c, "operator.uncorrelated", {}),
  },
  "operator.evacuations": {
    access: "operator",
    run: (c) => callPath(c, "operator.evacuations", {}),
  },
  "operator.evacuate": {
    access: "operator",
    run: (c, A) => callPath(c, "operator.evacuate", { vmId: A.vmIds[1] }),
  },
  "operator.cancelEvacuation": {
    access: "operator",
    run: async (c, A) => {
      const { evacuationId } = (await callPath(c, "operator.evacuate", {
        vmId: A.vmIds[1],
      })) as { evacuationId: string };
      return callPath(c, "operator.cancelEvacuation", { evacuationId });
    },
  },
  "operator.startEvacuation": {
    access: "operator",
    run: async (c, A) => {
      const { evacuationId } = (await callPath(c, "operator.evacuate", {
        vmId: A.vmIds[1],
      })) as { evacuationId: string };
      return callPath(c, "operator.startEvacuation", { evacuationId });
    },
  },
  "operator.policy": {
    access: "operator",
    run: (c) => callPath(c, "operator.policy", undefined),
  },
  "operator.previewPolicy": {
    access: "operator",
    run: (c) => callPath(c, "operator.previewPolicy", { vmPages: 3 }),
  },
  "operator.updatePolicy": {
    access: "operator",
    run: (c) => callPath(c, "operator.updatePolicy", { coalesceSeconds: 300 }),
  },
  "operator.outbox": {
    access: "operator",
    run: (c) => callPath(c, "operator.outbox", {}),
  },
  "operator.outboxEmail": {
    access: "operator",
    run: (c, A) => callPath(c, "operator.outboxEmail", { id: A.emailId }),
  },
  "outbox.list": { access: "viewer", run: (c) => c.outbox.list({}) },
  "outbox.byId": {
    access: "viewer",
    run: async (c) =>
      c.outbox.byId({ id: (await c.outbox.list({})).data[0]!.id }),
    foreign: (c, B) => c.outbox.byId({ id: B.emailId }),
  },
  "settings.listMembers": {
    access: "viewer",
    run: (c) => c.settings.listMembers(),
  },
  "settings.inviteMember": {
    access: "owner",
    run: (c, A) =>
      c.settings.inviteMember({
        email: `${uid("inv")}@${A.tenantId}.example`,
        role: "viewer",
      }),
  },
  "settings.changeMemberRole": {
    access: "owner",
    run: async (c, A) =>
      c.settings.changeMemberRole({
        memberId: await freshMemberId(A),
        role: "member",
      }),
    foreign: (c, B) =>
      c.settings.changeMemberRole({
        memberId: B.memberIds[B.emails.viewer]!,
        role: "owner",
      }),
  },
  "settings.removeMember": {
    access: "owner",
    run: async (c, A) =>
      c.settings.removeMember({ memberId: await freshMemberId(A) }),
    foreign: (c, B) =>
      c.settings.removeMember({ memberId: B.memberIds[B.emails.viewer]! }),
  },
  "settings.listApiKeys": {
    access: "viewer",
    run: (c) => c.settings.listApiKeys(),
  },
  "settings.createApiKey": {
    access: "owner",
    run: (c) => c.settings.createApiKey({ name: "matrix" }),
  },
  "settings.revokeApiKey": {
    access: "owner",
    run: async (c, A) =>
      c.settings.revokeApiKey({
        keyId: (
          await (await callerFor(A.emails.owner)).settings.createApiKey({})
        ).id,
      }),
    foreign: (c, B) => c.settings.revokeApiKey({ keyId: B.apiKeyId }),
  },
  "settings.listAudit": {
    access: "owner",
    run: (c) => c.settings.listAudit({}),
  },
  "tenant.mine": { access: "session", run: (c) => c.tenant.mine() },
  "tenant.switch": {
    access: "session",
    run: (c, A) => c.tenant.switch({ tenantId: A.tenantId }),
    foreign: (c, B) => c.tenant.switch({ tenantId: B.tenantId }),
  },
  "vm.list": { access: "viewer", run: (c) => c.vm.list({}) },
  "vm.byId": {
    access: "viewer",
    run: (c, A) => c.vm.byId({ vmId: A.vmId }),
    foreign: (c, B) => c.vm.byId({ vmId: B.vmId }),
  },
  "vm.memoryHealth": {
    access: "viewer",
    run: (c, A) => c.vm.memoryHealth({ vmId: A.vmId }),
    foreign: (c, B) => c.vm.memoryHealth({ vmId: B.vmId }),
  },
};

describe("REST: a VM id deleted and created again for another tenant", () => {
  it("is a new VM: deleting resolves the old incident, the new tenant's errors open its own, and neither tenant sees the other's", async () => {
    const op = await operator();
    const A = await fleet();
    const Bw = await fleet();
    const vmId = A.vmId;
    const minutesAgo = (m: number) =>
      new Date(Date.now() - m * 60_000).toISOString();
    const send = async (
      w: typeof A,
      page: number,
      time = new Date().toISOString(),
    ) =>
      (
        await api("POST", "/api/v1/events", {
          token: w.hostToken,
          body: memoryEvent({ hostId: w.hostId, vmId, gpa: gpaOf(page), time }),
        })
      ).body;
    const incidentsOf = async (w: typeof A) =>
      (await api("GET", `/api/v1/incidents?vmId=${vmId}`, { token: w.apiKey }))
        .body.data as {
        id: string;
        status: string;
        errorCount: number;
        distinctPages: number;
      }[];
    const logsOf = async (w: typeof A) =>
      (
        await api("GET", `/api/v1/log-entries?vmId=${vmId}&limit=500`, {
          token: w.apiKey,
        })
      ).body.data as { incidentId: string; jsonPayload: { gpa: string } }[];
    const recreate = (w: typeof A) =>
      api("PUT", `/api/v1/admin/vms/${vmId}`, {
        token: op,
        body: {
          projectId: w.projectId,
          name: `vm-of-${w.tenantId}`,
          zone: "zone-a",
          hostId: w.hostId,
        },
      });

    // A's VM: three distinct pages (the default policy evacuates at four)
    for (const p of [1, 2, 3])
      expect((await send(A, p, minutesAgo(30 + p))).accepted).toBe(1);
    const [incA] = await incidentsOf(A);
    expect(incA).toMatchObject({
      status: "open",
      errorCount: 3,
      distinctPages: 3,
    });

    expect(
      (await api("DELETE", `/api/v1/admin/vms/${vmId}`, { token: op })).status,
    ).toBe(204);
    const resolved = await api("GET", `/api/v1/incidents/${incA!.id}`, {
      token: A.apiKey,
    });
    expect(resolved.body).toMatchObject({
      status: "resolved",
      errorCount: 3,
      distinctPages: 3,
    });
    expect(
      resolved.body.timeline.map((t: { summary: string }) => t.summary),
    ).toContain("Resolved: the VM was deleted");

    // the id again, for tenant B on B's host
    expect((await recreate(Bw)).status).toBe(200);
    expect((await send(Bw, 4)).accepted).toBe(1);
    // A's host, reporting from the time A's VM ran: that VM is gone, B's VM never ran there
    expect((await send(A, 5, minutesAgo(20))).accepted).toBe(1);
    const incsB = await incidentsOf(Bw);
    expect(incsB).toHaveLength(1);
    expect(incsB[0]).toMatchObject({
      status: "open",
      errorCount: 1,
      distinctPages: 1,
    });
    expect(incsB[0]!.id).not.toBe(incA!.id);
    expect((await logsOf(Bw)).map((e) => e.jsonPayload.gpa)).toEqual([
      gpaOf(4),
    ]);
    // the policy counts B's VM alone: one page, nothing evacuated
    const vmB = await api("GET", `/api/v1/vms/${vmId}`, { token: Bw.apiKey });
    expect(vmB.body.memoryHealth).toMatchObject({
      distinctPages: 1,
      evacuation: null,
    });
    expect(
      (
        await api("GET", `/api/v1/admin/evacuations?vmId=${vmId}`, {
          token: op,
        })
      ).body.data,
    ).toEqual([]);

    // A sees nothing of B's: its incident as it was, its own entries only, B's incident unknown
    expect(
      (await incidentsOf(A)).map((i) => [i.id, i.status, i.errorCount]),
    ).toEqual([[incA!.id, "resolved", 3]]);
    expect((await logsOf(A)).map((e) => e.jsonPayload.gpa).sort()).toEqual([
      gpaOf(1),
      gpaOf(2),
      gpaOf(3),
    ]);
    expect((await logsOf(A)).every((e) => e.incidentId === incA!.id)).toBe(
      true,
    );
    expect(
      (
        await api("GET", `/api/v1/incidents/${incsB[0]!.id}`, {
          token: A.apiKey,
        })
      ).status,
    ).toBe(404);
    expect(
      (await api("GET", `/api/v1/vms/${vmId}`, { token: A.apiKey })).status,
    ).toBe(404);
    const detailA = await api("GET", `/api/v1/incidents/${incA!.id}`, {
      token: A.apiKey,
    });
    expect(JSON.stringify(detailA.body)).not.toContain(gpaOf(4));
    expect(JSON.stringify(detailA.body)).not.toContain(Bw.tenantId);
    // ... nor B of A's
    expect(
      (await api("GET", `/api/v1/incidents/${incA!.id}`, { token: Bw.apiKey }))
        .status,
    ).toBe(404);
    const detailB = await api("GET", `/api/v1/incidents/${incsB[0]!.id}`, {
      token: Bw.apiKey,
    });
    for (const p of [1, 2, 3, 5])
      expect(JSON.stringify(detailB.body)).not.toContain(gpaOf(p));

    // and the other way: deleted again and created for A once more
    expect(
      (await api("DELETE", `/api/v1/admin/vms/${vmId}`, { token: op })).status,
    ).toBe(204);
    expect((await incidentsOf(Bw)).map((i) => i.status)).toEqual(["resolved"]);
    expect((await recreate(A)).status).toBe(200);
    expect((await send(A, 6)).accepted).toBe(1);
    const incsA = await incidentsOf(A);
    expect(incsA).toHaveLength(2);
    const fresh = incsA.find((i) => i.id !== incA!.id)!;
    expect(fresh).toMatchObject({
      status: "open",
      errorCount: 1,
      distinctPages: 1,
    });
    expect((await incidentsOf(Bw)).map((i) => [i.id, i.errorCount])).toEqual([
      [incsB[0]!.id, 1],
    ]);
    expect((await logsOf(Bw)).map((e) => e.jsonPayload.gpa)).toEqual([
      gpaOf(4),
    ]);
    expect(
      (await api("GET", `/api/v1/incidents/${fresh.id}`, { token: Bw.apiKey }))
        .status,
    ).toBe(404);
  });
});

let TA: TenantWorld;
let TB: TenantWorld;
const operatorEmail = `operator-${process.pid}@provider.example`;

async function tenantWorlds() {
  TA ??= await tenantWorld();
  TB ??= await tenantWorld();
  await putSetting(await getDb(), DEMO_OPERATOR_SETTING, operatorEmail);
  return { A: TA, B: TB };
}

describe("tRPC procedure map", () => {
  it("lists every procedure of the router in the access table", () => {
    expect(procedurePaths.length).toBeGreaterThan(0);
    const missing = procedurePaths.filter((p) => !PROCEDURES[p]);
    expect(
      missing,
      "new tRPC procedures: add each to PROCEDURES with the role spec.md gives it",
    ).toEqual([]);
  });

  it.each(procedurePaths)(
    "%s answers UNAUTHORIZED without a session, before reading its input",
    async (path) => {
      await tenantWorlds();
      const c = await callerFor(null);
      for (const input of [
        undefined,
        {},
        { id: "x", vmId: "x", tenantId: "x" },
        "garbage",
      ]) {
        expect(
          await codeOf(callPath(c, path, input)),
          `${path}(${JSON.stringify(input)})`,
        ).toBe("UNAUTHORIZED");
      }
    },
  );

  it.each(procedurePaths)(
    "%s refuses (FORBIDDEN) every role below its access, before reading its input",
    async (path) => {
      const { A } = await tenantWorlds();
      const access = PROCEDURES[path]?.access;
      expect(access, `${path} has no access entry`).toBeDefined();
      for (const role of ROLES) {
        const allowed =
          access === "session" ||
          (access !== "operator" && roleAtLeast(role, access!));
        const code = await codeOf(
          callPath(await callerFor(A.emails[role]), path, {
            "not-an-input": true,
          }),
        );
        if (allowed)
          expect(code, `${path} as ${role}`).not.toMatch(
            /^(UNAUTHORIZED|FORBIDDEN|INTERNAL_SERVER_ERROR)$/,
          );
        else expect(code, `${path} as ${role}`).toBe("FORBIDDEN");
      }
    },
  );
});

// (an entry whose procedure is gone is skipped)
describe.each(
  Object.entries(PROCEDURES).filter(([p]) => procedurePaths.includes(p)),
)("tRPC %s", (path, tc) => {
  const allowedFor = (role: Role) =>
    tc.access === "session" ||
    (tc.access !== "operator" && roleAtLeast(role, tc.access));

  for (const role of ROLES) {
    it(`${allowedFor(role) ? "serves" : "refuses (FORBIDDEN)"} a ${role} of the tenant`, async () => {
      const { A } = await tenantWorlds();
      const c = await callerFor(A.emails[role]);
      if (!allowedFor(role)) {
        await expectTRPCError(tc.run(c, A), "FORBIDDEN");
        return;
      }
      const r = await tc.run(c, A);
      const s = JSON.stringify(r) ?? "";
      for (const v of [
        TB.tenantId,
        TB.incidentId,
        TB.logEntryId,
        TB.apiKeyId,
        TB.emailId,
        ...TB.vmIds,
        TB.emails.viewer,
      ]) {
        expect(s, `${path} as ${role} leaked ${v}`).not.toContain(v);
      }
    });
  }

  itWhen(Boolean(tc.foreign))(
    "answers NOT_FOUND for tenant B's ids, to every role of A",
    async () => {
      const { A, B } = await tenantWorlds();
      for (const role of ROLES) {
        if (!allowedFor(role)) continue;
        const e = await expectTRPCError(
          tc.foreign!(await callerFor(A.emails[role]), B),
          "NOT_FOUND",
        );
        // the message may name the id asked for, nothing else of B's
        for (const v of [
          ...Object.values(B.emails),
          B.projectId,
          ...B.vmIds.filter((id) => !JSON.stringify(e.message).includes(id)),
        ])
          expect(e.message).not.toContain(v);
      }
    },
  );

  itWhen(tc.access !== "session")(
    "is not a tenant procedure for an operator who is no member of the tenant",
    async () => {
      await tenantWorlds();
      const code = await codeOf(tc.run(await callerFor(operatorEmail), TA));
      expect(code).toBe(tc.access === "operator" ? "OK" : "FORBIDDEN");
    },
  );

  itWhen(tc.access === "operator")(
    "refuses (FORBIDDEN) a session of every tenant role",
    async () => {
      const { A } = await tenantWorlds();
      for (const role of ROLES)
        await expectTRPCError(
          tc.run(await callerFor(A.emails[role]), A),
          "FORBIDDEN",
        );
    },
  );
});

describe("tRPC operatorProcedure (what every operator procedure is built on)", () => {
  const probe = router({
    fleet: operatorProcedure.query(({ ctx }) => ctx.actor),
  });
  const probeCaller = async (email: string | null) => {
    const db = await getDb();
    const session: SessionUser | null = email
      ? {
          userId: `usr_${email}`,
          email,
          name: "",
          sessionId: `ses_${email}`,
          activeTenantId: null,
        }
      : null;
    return probe.createCaller({ db, session });
  };

  it("answers UNAUTHORIZED without a session, FORBIDDEN to every tenant role, and serves an operator", async () => {
    const { A } = await tenantWorlds();
    await expectTRPCError((await probeCaller(null)).fleet(), "UNAUTHORIZED");
    for (const role of ROLES)
      await expectTRPCError(
        (await probeCaller(A.emails[role])).fleet(),
        "FORBIDDEN",
      );
    expect(await (await probeCaller(operatorEmail)).fleet()).toBe(
      `operator:${operatorEmail}`,
    );
    // an operator's address in other case is the same person
    expect(
      await (await probeCaller(operatorEmail.toUpperCase())).fleet(),
    ).toMatch(/^operator:/);
  });
});

describe("console over HTTP: the session cookie and cross-site requests", () => {
  const ORIGIN = env().publicUrl;

  async function signIn(email: string) {
    const auth = await getAuth();
    const url = await createSignInLink(await getDb(), email, {
      callbackPath: "/overview",
    });
    const res = await auth.handler(
      new Request(url, { headers: { "x-forwarded-for": "10.8.0.1" } }),
    );
    const setCookie = res.headers
      .getSetCookie()
      .find((c) => c.startsWith("better-auth.session_token="))!;
    expect(setCookie, "session cookie").toBeTruthy();
    return { setCookie, cookie: setCookie.split(";")[0]! };
  }

  it("keeps the session cookie from scripts and cross-site requests, and refuses mutations over GET", async () => {
    const { A } = await tenantWorlds();
    const { setCookie, cookie } = await signIn(A.emails.owner);
    expect(setCookie).toMatch(/;\s*HttpOnly/i);
    expect(setCookie).toMatch(/;\s*SameSite=(Lax|Strict)/i);
    expect(setCookie).toMatch(/;\s*Path=\//i);
    const { GET, POST } = await import("@/app/api/trpc/[trpc]/route");
    const mine = await GET(
      new Request(`${ORIGIN}/api/trpc/tenant.mine`, { headers: { cookie } }),
    );
    expect(mine.status).toBe(200);
    expect(mine.headers.get("cache-control")).toBe("no-store");
    const keysBefore = (
      await (await callerFor(A.emails.owner)).settings.listApiKeys()
    ).data.length;
    // a link or an <img> can make a GET: mutations never run on one
    const input = encodeURIComponent(
      JSON.stringify({ json: { name: "csrf" } }),
    );
    const viaGet = await GET(
      new Request(`${ORIGIN}/api/trpc/settings.createApiKey?input=${input}`, {
        headers: { cookie },
      }),
    );
    expect(viaGet.status).toBe(405);
    // without the cookie (what a cross-site POST gets under SameSite) a mutation is UNAUTHORIZED
    const noCookie = await POST(
      new Request(`${ORIGIN}/api/trpc/settings.createApiKey`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          origin: "https://evil.example",
        },
        body: JSON.stringify({ json: { name: "csrf" } }),
      }),
    );
    expect(noCookie.status).toBe(401);
    expect(
      (await (await callerFor(A.emails.owner)).settings.listApiKeys()).data
        .length,
    ).toBe(keysBefore);
    // (better-auth's Origin check of POST /api/auth/*: see security-findings.test.ts)
    expect(await getSessionFromHeaders(new Headers({ cookie }))).not.toBeNull();
  });
});

// ---- sign-in and invitation links (spec "Bootstrap": readable only by their recipient) --------

describe("sign-in and invitation links: whoever reads a tenant's outbox never signs in as another person", () => {
  const ORIGIN = env().publicUrl;
  const VERIFY = "/api/auth/magic-link/verify";

  const linkIn = (text: string) =>
    /https?:\/\/\S+\/api\/auth\/magic-link\/verify\?[^\s)\]"<]+/.exec(
      text,
    )?.[0] ?? null;

  async function mailsTo(email: string, kind: string) {
    const db = await getDb();
    return (
      await db.select().from(emailsTable).where(eq(emailsTable.kind, kind))
    ).filter((m) => m.to.includes(email));
  }

  async function requestLink(email: string) {
    const { POST } = await import("@/app/api/auth/[...all]/route");
    return POST(
      new Request(`${ORIGIN}/api/auth/sign-in/magic-link`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: ORIGIN },
        body: JSON.stringify({ email, callbackURL: "/overview" }),
      }),
    );
  }

  async function sessionOf(link: string) {
    const res = await (
      await getAuth()
    ).handler(new Request(link.replace(/&amp;/g, "&")));
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0]!)
      .join("; ");
    return getSessionFromHeaders(new Headers({ cookie }));
  }

  // everything an owner of A can read of A's outbox, as one string (no sign-in link but their own)
  async function ownerView(A: TenantWorld): Promise<string> {
    const owner = await callerFor(A.emails.owner, A.tenantId);
    const list = await owner.outbox.list({ limit: 500 });
    const bodies = await Promise.all(
      list.data.map((m) => owner.outbox.byId({ id: m.id })),
    );
    for (const b of bodies) {
      if (b.html?.includes(VERIFY) || b.text?.includes(VERIFY))
        expect(b.to, `a readable sign-in link in ${b.id}`).toEqual([
          A.emails.owner,
        ]);
    }
    return JSON.stringify([list, bodies]);
  }

  function expectNoLink(view: string, link: string, what: string) {
    const token = new URL(link.replace(/&amp;/g, "&")).searchParams.get(
      "token",
    )!;
    expect(token.length, what).toBeGreaterThan(20);
    expect(view, `${what}: the token`).not.toContain(token);
  }

  async function attack(resendKey: string | undefined) {
    const prev = process.env.RESEND_API_KEY;
    if (resendKey) process.env.RESEND_API_KEY = resendKey;
    else delete process.env.RESEND_API_KEY;
    resetEnvCache();
    try {
      if (resendKey) await getBoss(await getDbHandle());
      // A's owner invites B's owner and the operator into A
      const A = await tenantWorld();
      const B = await tenantWorld();
      await putSetting(await getDb(), DEMO_OPERATOR_SETTING, operatorEmail);
      const owner = await callerFor(A.emails.owner, A.tenantId);
      await owner.settings.inviteMember({
        email: B.emails.owner,
        role: "viewer",
      });
      await owner.settings.inviteMember({
        email: operatorEmail,
        role: "viewer",
      });
      for (const victim of [B.emails.owner, operatorEmail]) {
        const [invite] = (await mailsTo(victim, "member_invite")).filter(
          (m) => m.tenantId === A.tenantId,
        );
        expect(invite, `invite to ${victim}`).toBeTruthy();
        const link = linkIn(invite!.text)!;
        const view = await ownerView(A);
        // the owner sees that it went: recipient, time and subject
        expect(view).toContain(invite!.id);
        expect(view).toContain(victim);
        expect(view).toContain(invite!.subject.replace(/"/g, '\\"'));
        expectNoLink(view, link, `invite to ${victim} in A's outbox`);
        // the operator console sees it whole, and the link signs in its recipient only
        const whole = (await callPath(
          await callerFor(operatorEmail),
          "operator.outboxEmail",
          { id: invite!.id },
        )) as { text: string };
        expect(whole.text).toContain(VERIFY);
        expect((await sessionOf(link))?.email).toBe(victim);
      }
      // passive: the victim, now a member of A, asks for a sign-in link on the public form
      expect((await requestLink(B.emails.owner)).status).toBe(200);
      const [signIn] = await mailsTo(B.emails.owner, "sign_in_link");
      expect(signIn, "sign-in mail").toBeTruthy();
      expect(
        signIn!.tenantId,
        "a person's sign-in mail is filed in no tenant's outbox",
      ).toBeNull();
      expectNoLink(
        await ownerView(A),
        linkIn(signIn!.text)!,
        "sign-in mail of a member of A",
      );
      expectNoLink(
        await ownerView(B),
        linkIn(signIn!.text)!,
        "sign-in mail of B's owner in B",
      );
      // the recipient reads their own invitation whole
      const mine = await (
        await callerFor(A.emails.viewer, A.tenantId)
      ).outbox.list({ limit: 500 });
      const own = mine.data.find(
        (m) => m.kind === "member_invite" && m.to.includes(A.emails.viewer),
      )!;
      expect(
        (
          await (
            await callerFor(A.emails.viewer, A.tenantId)
          ).outbox.byId({ id: own.id })
        ).text,
      ).toContain(VERIFY);
    } finally {
      if (prev === undefined) delete process.env.RESEND_API_KEY;
      else process.env.RESEND_API_KEY = prev;
      resetEnvCache();
    }
  }

  it("an owner who invites another tenant's owner or the operator finds no working link in the outbox (built-in outbox)", async () => {
    await attack(undefined);
  });

  it("the same with RESEND_API_KEY set (every email is stored)", async () => {
    await attack("re_test_key");
  });
});

// ---- OPERATOR_TOKEN (spec "Bootstrap": any string of 16 or more characters) --------------------

describe("a configured OPERATOR_TOKEN", () => {
  async function withToken<T>(
    token: string | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const prev = process.env.OPERATOR_TOKEN;
    if (token === undefined) delete process.env.OPERATOR_TOKEN;
    else process.env.OPERATOR_TOKEN = token;
    resetEnvCache();
    try {
      return await fn();
    } finally {
      if (prev === undefined) delete process.env.OPERATOR_TOKEN;
      else process.env.OPERATOR_TOKEN = prev;
      resetEnvCache();
    }
  }

  it.each([
    "vault:Zm9vYmFyYmF6cXV4",
    "0123456789abcdef",
    "pwo_made-by-someone-else",
    "Ünïcødé-sécret-ok",
  ])("works in any form of 16+ characters: %s", async (secret) => {
    await withToken(secret, async () => {
      const ok = await api("GET", "/api/v1/admin/policy", { token: secret });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      const wrong = await api("GET", "/api/v1/admin/policy", {
        token: secret.slice(0, -1) + (secret.endsWith("x") ? "y" : "x"),
      });
      expect(wrong.status).toBe(401);
      // it is the operator's credential, not a tenant's
      expect((await api("GET", "/api/v1/vms", { token: secret })).status).toBe(
        403,
      );
    });
  });

  it("shorter than 16 characters is refused at start with a clear message", async () => {
    await withToken("short-token", async () => {
      expect(() => validateEnv()).toThrow(
        /OPERATOR_TOKEN: must be at least 16 characters/,
      );
    });
    // a bearer token is one word: a secret with spaces could never be sent
    await withToken("sixteen chars or more", async () => {
      expect(() => validateEnv()).toThrow(
        /OPERATOR_TOKEN: may not contain whitespace/,
      );
    });
  });
});

// ---- request bodies (spec "Bootstrap": bounded before reading, after authentication) ------------

describe("every entry point bounds a request body before reading it, and authenticates first", () => {
  const ORIGIN = env().publicUrl;
  const EIGHT_MIB = 8 * 1024 * 1024;

  // A chunked body that does not end before 16 MiB (a server that reads on past 8 MiB fails the
  // test instead of hanging it); `pulled` is how much of it the server read.
  function endless() {
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const s = { pulled: 0 };
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (s.pulled >= 2 * EIGHT_MIB) return c.close();
        s.pulled += chunk.byteLength;
        c.enqueue(chunk);
      },
    });
    return { body, s };
  }

  async function send(
    handler: (r: Request) => Promise<Response>,
    url: string,
    headers: Record<string, string>,
    method = "POST",
  ) {
    const { body, s } = endless();
    const init = {
      method,
      headers: {
        "content-type": "application/json",
        origin: ORIGIN,
        ...headers,
      },
      body,
      duplex: "half",
    };
    const res = await handler(new Request(url, init as RequestInit));
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as unknown) : null,
      pulled: s.pulled,
      headers: res.headers,
    };
  }

  async function sessionCookie(email: string) {
    const url = await createSignInLink(await getDb(), email, {
      callbackPath: "/overview",
    });
    const res = await (await getAuth()).handler(new Request(url));
    return res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0]!)
      .join("; ");
  }

  function expectTooLarge(
    r: { status: number; body: unknown; pulled: number },
    what: string,
  ) {
    expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBe(413);
    expectErrorBody(r.status, r.body, what);
    expect(r.pulled, `${what}: bytes read`).toBeLessThan(EIGHT_MIB);
  }

  it("tRPC: 413 for a signed-in person's endless body, 401 without reading it for no session", async () => {
    const { A } = await tenantWorlds();
    const { POST } = await import("@/app/api/trpc/[trpc]/route");
    const cookie = await sessionCookie(A.emails.owner);
    for (const path of [
      "settings.createApiKey",
      "notification.updateSettings",
      "tenant.switch",
      "operator.updatePolicy",
    ]) {
      expectTooLarge(
        await send(POST, `${ORIGIN}/api/trpc/${path}`, { cookie }),
        `tRPC ${path}`,
      );
      expectTooLarge(
        await send(POST, `${ORIGIN}/api/trpc/${path},${path}?batch=1`, {
          cookie,
        }),
        `tRPC batch of ${path}`,
      );
      const anon = await send(POST, `${ORIGIN}/api/trpc/${path}`, {});
      expect(anon.status, `${path} without a session`).toBe(401);
      expect(anon.pulled, `${path} without a session: bytes read`).toBeLessThan(
        1024 * 1024,
      );
    }
    // a declared size over the bound is refused before a byte is read
    const declared = await send(
      POST,
      `${ORIGIN}/api/trpc/settings.createApiKey`,
      { cookie, "content-length": String(EIGHT_MIB) },
    );
    expectTooLarge(declared, "tRPC with a large content-length");
  });

  it("tRPC: a batch has at most 20 calls", async () => {
    const { A } = await tenantWorlds();
    const { GET } = await import("@/app/api/trpc/[trpc]/route");
    const cookie = await sessionCookie(A.emails.owner);
    const batch = (n: number) =>
      `${ORIGIN}/api/trpc/${Array(n).fill("tenant.mine").join(",")}?batch=1`;
    const ok = await GET(new Request(batch(20), { headers: { cookie } }));
    expect(ok.status).toBe(200);
    const many = await GET(new Request(batch(21), { headers: { cookie } }));
    expect(many.status).toBe(400);
    expect(await many.text()).toContain("Batch call exceeds maximum size");
  });

  it("better-auth routes: the public sign-in form 413, the others 401 without reading for no session", async () => {
    const { A } = await tenantWorlds();
    const { POST } = await import("@/app/api/auth/[...all]/route");
    expectTooLarge(
      await send(POST, `${ORIGIN}/api/auth/sign-in/magic-link`, {}),
      "sign-in",
    );
    for (const path of [
      "sign-out",
      "update-user",
      "revoke-sessions",
      "delete-user",
    ]) {
      const anon = await send(POST, `${ORIGIN}/api/auth/${path}`, {});
      expect(
        anon.status,
        `${path} without a session: ${JSON.stringify(anon.body)}`,
      ).toBe(401);
      expectErrorBody(anon.status, anon.body, path);
      expect(anon.pulled, `${path} without a session: bytes read`).toBeLessThan(
        1024 * 1024,
      );
    }
    const cookie = await sessionCookie(A.emails.viewer);
    expectTooLarge(
      await send(POST, `${ORIGIN}/api/auth/sign-out`, { cookie }),
      "sign-out with a session",
    );
    // a sign-in body of 5 MiB is not a sign-in
    const big = await POST(
      new Request(`${ORIGIN}/api/auth/sign-in/magic-link`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: ORIGIN },
        body: JSON.stringify({
          email: A.emails.viewer,
          callbackURL: "/overview",
          pad: "x".repeat(5 * 1024 * 1024),
        }),
      }),
    );
    expect(big.status).toBe(413);
  });

  it("REST: every route that takes a body answers 413 to the right credential, 401 to none, before 8 MiB", async () => {
    const op = await operator();
    const w = await securityWorld();
    const { POST, PUT, PATCH } = await import("@/app/api/v1/[...path]/route");
    const handlers: Record<string, (r: Request) => Promise<Response>> = {
      POST,
      PUT,
      PATCH,
    };
    const withBody = allRoutes.filter((r) => r.method in handlers);
    expect(withBody.length).toBeGreaterThan(5);
    for (const route of withBody) {
      const token = route.auth.includes("operator")
        ? op
        : route.auth.includes("tenant")
          ? w.apiKey
          : w.hostToken;
      const url = `${ORIGIN}${fillPath(route, w)}`;
      const h = handlers[route.method]!;
      const ct: Record<string, string> =
        routeKey(route) === "POST /api/v1/events"
          ? { "content-type": "application/cloudevents+json" }
          : {};
      expectTooLarge(
        await send(
          h,
          url,
          { authorization: `Bearer ${token}`, ...ct },
          route.method,
        ),
        routeKey(route),
      );
      const anon = await send(h, url, ct, route.method);
      expect(anon.status, routeKey(route)).toBe(401);
      expect(
        anon.pulled,
        `${routeKey(route)} without a credential: bytes read`,
      ).toBeLessThan(1024 * 1024);
    }
  });
});

// ---- the low ones (issue 11, finding 8) ----------------------------------------------------------

describe("HSTS, the auth secret, quiet refusals, per-tenant caps, the demo operator", () => {
  const ORIGIN = env().publicUrl;

  async function withEnv<T>(
    vars: Record<string, string | undefined>,
    fn: () => Promise<T>,
  ): Promise<T> {
    const prev = Object.fromEntries(
      Object.keys(vars).map((k) => [k, process.env[k]]),
    );
    const set = (v: Record<string, string | undefined>) => {
      for (const [k, x] of Object.entries(v)) {
        if (x === undefined) delete process.env[k];
        else process.env[k] = x;
      }
      resetEnvCache();
    };
    set(vars);
    try {
      return await fn();
    } finally {
      set(prev);
    }
  }

  it("sends Strict-Transport-Security on pages and APIs when PUBLIC_URL is https, and not on http", async () => {
    // better-auth is made once per database with the PUBLIC_URL of its time: make it on http first
    await getAuth();
    const { proxy } = await import("@/proxy");
    const { NextRequest } = await import("next/server");
    const trpc = (await import("@/app/api/trpc/[trpc]/route")).GET;
    const auth = (await import("@/app/api/auth/[...all]/route")).GET;
    const answers = async (base: string) => [
      proxy(new NextRequest(`${base}/overview`)).headers,
      (await api("GET", "/api/v1/vms")).headers,
      (await api("DELETE", "/api/v1/webhooks/whe_nothing")).headers,
      (await api("OPTIONS", "/api/v1/vms")).headers,
      (await trpc(new Request(`${base}/api/trpc/tenant.mine`))).headers,
      (await auth(new Request(`${base}/api/auth/get-session`))).headers,
    ];
    await withEnv(
      { PUBLIC_URL: "https://poisonwatch.example.com" },
      async () => {
        for (const h of await answers("https://poisonwatch.example.com"))
          expect(h.get("strict-transport-security")).toMatch(/^max-age=\d{7,}/);
      },
    );
    await withEnv({ PUBLIC_URL: "http://localhost:3000" }, async () => {
      for (const h of await answers("http://localhost:3000"))
        expect(h.get("strict-transport-security")).toBeNull();
    });
  });

  it("a database dump alone (auth secret included) cannot forge a session: tokens are stored hashed", async () => {
    const { A } = await tenantWorlds();
    const db = await getDb();
    const url = await createSignInLink(db, A.emails.owner, {
      callbackPath: "/overview",
    });
    const res = await (await getAuth()).handler(new Request(url));
    const cookie = res.headers
      .getSetCookie()
      .find((c) => c.startsWith("better-auth.session_token="))!
      .split(";")[0]!;
    const plain = decodeURIComponent(cookie.split("=")[1]!).split(".")[0]!;
    const secret = (await (await getAuth()).$context).secret;
    const sign = (value: string) =>
      `better-auth.session_token=${encodeURIComponent(`${value}.${createHmac("sha256", secret).update(value).digest("base64")}`)}`;
    // the forging is right: with the plaintext token (which only the cookie holds) it signs in
    expect(
      (await getSessionFromHeaders(new Headers({ cookie: sign(plain) })))
        ?.email,
    ).toBe(A.emails.owner);
    // the dump holds only the tokens' hashes: none of them signs anyone in
    const stored = await rawRows<{ token: string }>(
      db,
      sql`select token from auth_sessions`,
    );
    expect(stored.length).toBeGreaterThan(0);
    for (const { token } of stored) {
      expect(token).toMatch(/^h1:/);
      expect(
        await getSessionFromHeaders(new Headers({ cookie: sign(token) })),
      ).toBeNull();
    }
  });

  it("does not log a refused sign-in request by its address", async () => {
    const lines: string[] = [];
    const spy = vi
      .spyOn(process.stdout, "write")
      .mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    try {
      await withEnv({ POISONWATCH_DEBUG: "1" }, async () => {
        const { POST } = await import("@/app/api/auth/[...all]/route");
        const stranger = `${uid("stranger")}@nowhere.example`;
        const res = await POST(
          new Request(`${ORIGIN}/api/auth/sign-in/magic-link`, {
            method: "POST",
            headers: { "content-type": "application/json", origin: ORIGIN },
            body: JSON.stringify({ email: stranger, callbackURL: "/overview" }),
          }),
        );
        expect(res.status).toBe(200);
        expect(lines.join("")).toContain("sign-in link not sent");
        expect(lines.join("")).not.toContain(stranger);
        expect(lines.join("")).not.toContain(stranger.split("@")[0]!);
      });
    } finally {
      spy.mockRestore();
    }
  });

  it("caps a tenant's webhook endpoints (409) and its test, retry and recover calls (429 with Retry-After), on the test clock", async () => {
    const w = await securityWorld();
    let t = Date.now();
    setClock(() => new Date(t));
    try {
      const list = await api("GET", "/api/v1/webhooks?limit=500", {
        token: w.apiKey,
      });
      for (let i = list.body.data.length; i < MAX_WEBHOOK_ENDPOINTS; i++) {
        const r = await api("POST", "/api/v1/webhooks", {
          token: w.apiKey,
          body: {
            url: `https://hooks.example.com/${i}`,
            eventTypes: ["incident.opened"],
          },
        });
        expect(r.status, JSON.stringify(r.body)).toBe(201);
      }
      const over = await api("POST", "/api/v1/webhooks", {
        token: w.apiKey,
        body: {
          url: "https://hooks.example.com/over",
          eventTypes: ["incident.opened"],
        },
      });
      expect(over.status).toBe(409);
      expectErrorBody(over.status, over.body, "one endpoint too many");
      expect(over.body.error.message).toContain(String(MAX_WEBHOOK_ENDPOINTS));
      // another tenant is not affected
      const other = await securityWorld();
      expect(
        (
          await api("POST", "/api/v1/webhooks", {
            token: other.apiKey,
            body: {
              url: "https://hooks.example.com/x",
              eventTypes: ["incident.opened"],
            },
          })
        ).status,
      ).toBe(201);

      const calls: [string, string, unknown, number][] = [
        [
          "test",
          `/api/v1/webhooks/${w.webhookId}/test`,
          undefined,
          WEBHOOK_ACTION_LIMITS.test.capacity,
        ],
        [
          "retry",
          `/api/v1/webhooks/${w.webhookId}/deliveries/${w.deliveryId}/retry`,
          undefined,
          WEBHOOK_ACTION_LIMITS.retry.capacity,
        ],
        [
          "recover",
          `/api/v1/webhooks/${w.webhookId}/recover`,
          { since: new Date(t - 3600_000).toISOString() },
          WEBHOOK_ACTION_LIMITS.recover.capacity,
        ],
      ];
      for (const [name, path, body, cap] of calls) {
        // what the world made already counts; the cap is reached within cap calls
        const statuses: number[] = [];
        for (let i = 0; i < cap + 1; i++)
          statuses.push(
            (await api("POST", path, { token: w.apiKey, body })).status,
          );
        const refused = await api("POST", path, { token: w.apiKey, body });
        expect(refused.status, `${name}: ${statuses.join(",")}`).toBe(429);
        expectErrorBody(refused.status, refused.body, name);
        expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
        // another tenant still can
        const o =
          name === "test"
            ? `/api/v1/webhooks/${other.webhookId}/test`
            : name === "retry"
              ? `/api/v1/webhooks/${other.webhookId}/deliveries/${other.deliveryId}/retry`
              : `/api/v1/webhooks/${other.webhookId}/recover`;
        expect(
          (await api("POST", o, { token: other.apiKey, body })).status,
          `${name} for another tenant`,
        ).toBe(202);
        // and later this one again
        t += 3600_000 + 1000;
        const again = await api("POST", path, {
          token: w.apiKey,
          body:
            name === "recover"
              ? { since: new Date(t - 3600_000).toISOString() }
              : body,
        });
        expect(again.status, `${name} an hour later`).toBe(202);
      }
    } finally {
      setClock(undefined);
    }
  });

  it("knows the demo operator only in demo mode: a start without demo data forgets it", async () => {
    const db = await getDb();
    const demo = `demo-operator-${uid("d")}@poisonwatch.example`;
    // a database the demo start made
    await putSetting(db, DEMO_OPERATOR_SETTING, demo);
    expect(await isOperatorEmail(db, demo)).toBe(true);
    // started again in demo mode: still there
    await withEnv({ POISONWATCH_DEMO: "1" }, () => bootstrap(db));
    expect(await isOperatorEmail(db, demo)).toBe(true);
    // started for production (POISONWATCH_DEMO=0): gone, and no sign-in link goes to it
    await withEnv({ POISONWATCH_DEMO: "0" }, () => bootstrap(db));
    expect(await getSetting(db, DEMO_OPERATOR_SETTING)).toBeNull();
    expect(await isOperatorEmail(db, demo)).toBe(false);
    await putSetting(db, DEMO_OPERATOR_SETTING, operatorEmail);
  });
});
