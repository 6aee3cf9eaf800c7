import { expect } from "vitest";
import type { RouteDef } from "@/server/http/router";
import { api, fleet, operator } from "./api";
import { memoryEvent } from "./events";

// A tenant with one of every kind of row a REST path can name: the ids the security matrix and
// the bad-input fuzz test put into every route's path.
export async function securityWorld() {
  const f = await fleet({ vms: 3 });
  const op = await operator();
  const ok = <T extends { status: number; body: any }>(
    r: T,
    what: string,
  ): T => {
    expect(r.status, `${what}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r;
  };
  ok(
    await api("POST", "/api/v1/events", {
      token: f.hostToken,
      body: memoryEvent({ hostId: f.hostId, vmId: f.vmId }),
    }),
    "event",
  );
  const incidents = ok(
    await api("GET", "/api/v1/incidents", { token: f.apiKey }),
    "incidents",
  );
  const logs = ok(
    await api("GET", "/api/v1/log-entries", { token: f.apiKey }),
    "log entries",
  );
  const hook = ok(
    await api("POST", "/api/v1/webhooks", {
      token: f.apiKey,
      body: {
        url: `https://hooks.example.com/${f.tenantId}`,
        eventTypes: ["incident.opened", "incident.updated"],
        description: "security",
      },
    }),
    "webhook",
  );
  ok(
    await api("POST", `/api/v1/webhooks/${hook.body.id}/test`, {
      token: f.apiKey,
    }),
    "webhook test",
  );
  const deliveries = ok(
    await api("GET", `/api/v1/webhooks/${hook.body.id}/deliveries`, {
      token: f.apiKey,
    }),
    "deliveries",
  );
  const channel = ok(
    await api("POST", "/api/v1/channels", {
      token: f.apiKey,
      body: {
        kind: "slack",
        url: `https://hooks.example.com/slack/${f.tenantId}`,
        description: "security",
      },
    }),
    "channel",
  );
  // the incident's VM: its evacuation is scheduled, so the tenant's start/defer routes have one to move
  const evac = ok(
    await api("POST", `/api/v1/admin/vms/${f.vmId}/evacuate`, {
      token: op,
      body: {},
    }),
    "evacuation",
  );
  const tokens = ok(
    await api("GET", `/api/v1/admin/hosts/${f.hostId}/tokens`, { token: op }),
    "host tokens",
  );
  const keys = ok(
    await api("GET", `/api/v1/admin/tenants/${f.tenantId}/api-keys`, {
      token: op,
    }),
    "api keys",
  );
  const feed = ok(
    await api("POST", "/api/v1/feed-tokens", { token: f.apiKey }),
    "feed token",
  );
  return {
    ...f,
    feedToken: feed.body.token as string,
    feedTokenId: feed.body.id as string,
    incidentId: incidents.body.data[0].id as string,
    logEntryId: logs.body.data[0].insertId as string,
    webhookId: hook.body.id as string,
    webhookSecret: hook.body.secret as string,
    webhookUrl: hook.body.url as string,
    deliveryId: deliveries.body.data[0].id as string,
    channelId: channel.body.id as string,
    channelUrl: channel.body.url as string,
    messageId: deliveries.body.data[0].messageId as string,
    evacuationId: evac.body.evacuationId as string,
    tokenId: tokens.body.data[0].id as string,
    keyId: keys.body.data[0].id as string,
  };
}
export type SecurityWorld = Awaited<ReturnType<typeof securityWorld>>;

// Every path parameter of the route table and the world's id for it. A route with a parameter
// not listed here fails the tests that use it, so a new route cannot go unprobed.
export const PATH_PARAM: Record<string, (w: SecurityWorld) => string> = {
  tenantId: (w) => w.tenantId,
  projectId: (w) => w.projectId,
  hostId: (w) => w.hostId,
  vmId: (w) => w.vmId,
  tokenId: (w) => w.tokenId,
  keyId: (w) => w.keyId,
  evacuationId: (w) => w.evacuationId,
  incidentId: (w) => w.incidentId,
  id: (w) => w.webhookId,
  deliveryId: (w) => w.deliveryId,
  feedTokenId: (w) => w.feedTokenId,
  channelId: (w) => w.channelId,
};

export function paramNames(route: RouteDef): string[] {
  return [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}

export function fillPath(
  route: RouteDef,
  w: SecurityWorld,
  override: Record<string, string> = {},
): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (override[name] !== undefined)
      return encodeURIComponent(override[name]!);
    const f = PATH_PARAM[name];
    if (!f)
      throw new Error(
        `${route.method} ${route.path}: no id for the path parameter {${name}}; add it to PATH_PARAM`,
      );
    return encodeURIComponent(f(w));
  });
}

export const routeKey = (r: Pick<RouteDef, "method" | "path">) =>
  `${r.method} ${r.path}`;

// A valid body for each route that takes one (the fuzz test mutates these; the matrix sends
// them with the right credential and expects a 2xx).
export const SAMPLE_BODY: Record<string, (w: SecurityWorld) => unknown> = {
  "POST /api/v1/events": (w) => memoryEvent({ hostId: w.hostId, vmId: w.vmId }),
  "PUT /api/v1/admin/tenants/{tenantId}": (w) => ({
    name: "Tenant " + w.tenantId,
    contactEmails: [`ops@${w.tenantId}.example`],
  }),
  "PUT /api/v1/admin/projects/{projectId}": (w) => ({
    tenantId: w.tenantId,
    name: "Project",
  }),
  "PUT /api/v1/admin/hosts/{hostId}": () => ({ zone: "zone-a" }),
  "PUT /api/v1/admin/vms/{vmId}": (w) => ({
    projectId: w.projectId,
    name: "web-1",
    zone: "zone-a",
    hostId: w.hostId,
    placedAt: "2020-01-01T00:00:00Z",
  }),
  "POST /api/v1/admin/tenants/{tenantId}/members": (w) => ({
    email: `someone@${w.tenantId}.example`,
    role: "viewer",
  }),
  "PUT /api/v1/admin/policy": () => ({ windowSeconds: 86400, vmPages: 4 }),
  "POST /api/v1/admin/policy/preview": () => ({
    vmPages: 3,
    hostEvacuatePages: 12,
  }),
  "PUT /api/v1/admin/callback": () => ({
    url: "https://control-plane.example.com/evacuate",
    rotateSecret: false,
  }),
  "POST /api/v1/admin/vms/{vmId}/evacuate": () => ({}),
  "POST /api/v1/incidents/{incidentId}/evacuation/defer": () => ({
    until: new Date(Date.now() + 3600_000).toISOString(),
  }),
  "PUT /api/v1/projects/{projectId}/maintenance-window": () => ({
    days: ["sat", "sun"],
    start: "03:00",
    durationMinutes: 120,
    timeZone: "America/New_York",
  }),
  "POST /api/v1/webhooks": () => ({
    url: "https://hooks.example.com/new",
    eventTypes: ["incident.opened"],
    description: "made by a test",
  }),
  "PATCH /api/v1/webhooks/{id}": () => ({
    description: "patched",
    eventTypes: ["incident.opened", "incident.resolved"],
  }),
  "POST /api/v1/webhooks/{id}/recover": () => ({
    since: new Date(Date.now() - 3600_000).toISOString(),
  }),
  "POST /api/v1/channels": () => ({
    kind: "pagerduty",
    routingKey: "R0UT1NGKEY0000000000000000000001",
    description: "made by a test",
  }),
  "PATCH /api/v1/channels/{channelId}": () => ({
    description: "patched",
    eventTypes: ["incident.opened", "incident.resolved"],
  }),
  "PUT /api/v1/notification-settings": () => ({
    emails: ["oncall@example.com"],
    minSeverity: "CRITICAL",
    digest: "daily",
  }),
};

// A valid query for each route that takes one.
export const SAMPLE_QUERY: Record<
  string,
  (w: SecurityWorld) => Record<string, string>
> = {
  "GET /api/v1/log-entries": (w) => ({
    vmId: w.vmId,
    severity: "CRITICAL",
    since: "2020-01-01T00:00:00+02:00",
    limit: "10",
  }),
  "GET /api/v1/log-entries/export": (w) => ({
    vmId: w.vmId,
    q: "memory",
    consumed: "true",
    format: "csv",
  }),
  "GET /api/v1/incidents": (w) => ({
    status: "open",
    projectId: w.projectId,
    limit: "5",
  }),
  "GET /api/v1/vms": () => ({ limit: "2" }),
  "GET /api/v1/webhooks": () => ({ limit: "3" }),
  "GET /api/v1/channels": () => ({ kind: "slack", limit: "3" }),
  "GET /api/v1/channels/{channelId}/deliveries": () => ({ limit: "3" }),
  "GET /api/v1/webhooks/{id}/deliveries": () => ({
    status: "pending",
    limit: "3",
  }),
  "GET /api/v1/admin/events": (w) => ({
    reason: "unknown_vm",
    hostId: w.hostId,
  }),
  "GET /api/v1/admin/hosts": () => ({ state: "healthy", limit: "10" }),
  "GET /api/v1/admin/evacuations": (w) => ({
    status: "scheduled",
    tenantId: w.tenantId,
  }),
};

export function withQuery(
  path: string,
  q: Record<string, string> | undefined,
): string {
  const s = q ? new URLSearchParams(q).toString() : "";
  return s ? `${path}?${s}` : path;
}

export const ERROR_CODES = [
  "invalid_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "payload_too_large",
  "unsupported_media_type",
  "rate_limited",
] as const;

export const STATUS_OF_CODE: Record<(typeof ERROR_CODES)[number], number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
};

// The error shape of the conventions: { error: { code, message, details? } }, code from the spec's list and matching the status.
export function expectErrorBody(status: number, body: unknown, what: string) {
  const e = (
    body as {
      error?: { code?: unknown; message?: unknown; details?: unknown };
    } | null
  )?.error;
  expect(
    e,
    `${what}: no error object in ${JSON.stringify(body)?.slice(0, 300)}`,
  ).toBeTruthy();
  expect(
    ERROR_CODES as readonly unknown[],
    `${what}: code ${String(e!.code)}`,
  ).toContain(e!.code);
  expect(
    STATUS_OF_CODE[e!.code as (typeof ERROR_CODES)[number]],
    `${what}: status ${status} vs code ${String(e!.code)}`,
  ).toBe(status);
  expect(
    typeof e!.message === "string" && e!.message.length > 0,
    `${what}: message`,
  ).toBe(true);
  if (e!.details !== undefined) {
    expect(Array.isArray(e!.details), `${what}: details`).toBe(true);
    for (const d of e!.details as { path?: unknown; message?: unknown }[]) {
      expect(
        typeof d.path === "string" && typeof d.message === "string",
        `${what}: detail ${JSON.stringify(d)}`,
      ).toBe(true);
    }
  }
}
