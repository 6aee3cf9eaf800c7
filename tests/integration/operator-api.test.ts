import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { getDb } from "@/db";
import { rawRows } from "@/db/client";
import { api, fleet, operator, uid } from "../helpers/api";

describe("operator API: inventory", () => {
  it("upserts a tenant (200, stored resource, idempotent)", async () => {
    const op = await operator();
    const id = uid("t");
    const a = await api("PUT", `/api/v1/admin/tenants/${id}`, {
      token: op,
      body: { name: "Acme", contactEmails: ["Ops@Acme.example"] },
    });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({
      id,
      name: "Acme",
      contactEmails: ["ops@acme.example"],
    });
    expect(a.body.createdAt).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
    );
    const b = await api("PUT", `/api/v1/admin/tenants/${id}`, {
      token: op,
      body: { name: "Acme 2", contactEmails: [] },
    });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({
      id,
      name: "Acme 2",
      contactEmails: [],
      createdAt: a.body.createdAt,
    });
  });

  it("rejects bad ids and bodies with 400 and details", async () => {
    const op = await operator();
    const bad = await api(
      "PUT",
      `/api/v1/admin/tenants/${encodeURIComponent("-bad id")}`,
      { token: op, body: { name: "x", contactEmails: [] } },
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_request");
    expect(bad.body.error.details[0].path).toBe("path.tenantId");
    const body = await api("PUT", `/api/v1/admin/tenants/${uid("t")}`, {
      token: op,
      body: { name: "", contactEmails: ["nope"] },
    });
    expect(body.status).toBe(400);
    expect(
      body.body.error.details.map((d: { path: string }) => d.path).sort(),
    ).toEqual(["contactEmails.0", "name"]);
    const junk = await api("PUT", `/api/v1/admin/tenants/${uid("t")}`, {
      token: op,
      rawBody: "{not json",
    });
    expect(junk.status).toBe(400);
    const media = await api("PUT", `/api/v1/admin/tenants/${uid("t")}`, {
      token: op,
      rawBody: "name=x",
      contentType: "text/plain",
    });
    expect(media.status).toBe(415);
    expect(media.body.error.code).toBe("unsupported_media_type");
    const big = await api("PUT", `/api/v1/admin/tenants/${uid("t")}`, {
      token: op,
      rawBody: JSON.stringify({ name: "x".repeat(1_100_000) }),
    });
    expect(big.status).toBe(413);
  });

  it("answers 401 without or with an unknown token, 403 for another kind of credential", async () => {
    const f = await fleet();
    expect((await api("GET", "/api/v1/admin/policy")).status).toBe(401);
    const unknown = await api("GET", "/api/v1/admin/policy", {
      token: "pwo_not-a-real-token",
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe("unauthorized");
    const host = await api("GET", "/api/v1/admin/policy", {
      token: f.hostToken,
    });
    expect(host.status).toBe(403);
    const tenant = await api("GET", "/api/v1/admin/policy", {
      token: f.apiKey,
    });
    expect(tenant.status).toBe(403);
    expect(tenant.body.error.code).toBe("forbidden");
  });

  it("a project must name a known tenant (400) and cannot change tenants (409)", async () => {
    const op = await operator();
    const f = await fleet();
    const unknown = await api("PUT", `/api/v1/admin/projects/${uid("p")}`, {
      token: op,
      body: { tenantId: "no-such-tenant", name: "P" },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details[0].path).toBe("tenantId");
    const other = await fleet();
    const move = await api("PUT", `/api/v1/admin/projects/${f.projectId}`, {
      token: op,
      body: { tenantId: other.tenantId, name: "P" },
    });
    expect(move.status).toBe(409);
  });

  it("keeps placement history across moves and stops; another project is 409; unknown refs are 400", async () => {
    const op = await operator();
    const f = await fleet();
    const host2 = uid("h");
    await api("PUT", `/api/v1/admin/hosts/${host2}`, {
      token: op,
      body: { zone: "zone-a" },
    });
    const vmId = uid("vm");
    const put = (body: Record<string, unknown>) =>
      api("PUT", `/api/v1/admin/vms/${vmId}`, { token: op, body });
    const created = await put({
      projectId: f.projectId,
      name: "db-1",
      zone: "zone-a",
      hostId: f.hostId,
      placedAt: "2026-01-01T00:00:00+02:00",
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      id: vmId,
      tenantId: f.tenantId,
      state: "running",
      hostId: f.hostId,
      placedAt: "2025-12-31T22:00:00.000Z",
    });
    const same = await put({
      projectId: f.projectId,
      name: "db-1 renamed",
      zone: "zone-a",
      hostId: f.hostId,
    });
    expect(same.body.placements).toHaveLength(1);
    expect(same.body.name).toBe("db-1 renamed");
    const moved = await put({
      projectId: f.projectId,
      name: "db-1",
      zone: "zone-a",
      hostId: host2,
      placedAt: "2026-02-01T00:00:00Z",
    });
    expect(moved.body.placements).toEqual([
      { hostId: host2, from: "2026-02-01T00:00:00.000Z", until: null },
      {
        hostId: f.hostId,
        from: "2025-12-31T22:00:00.000Z",
        until: "2026-02-01T00:00:00.000Z",
      },
    ]);
    const stopped = await put({
      projectId: f.projectId,
      name: "db-1",
      zone: "zone-a",
      hostId: null,
      placedAt: "2026-03-01T00:00:00Z",
    });
    expect(stopped.body.state).toBe("stopped");
    expect(stopped.body.placements).toHaveLength(3);
    const backwards = await put({
      projectId: f.projectId,
      name: "db-1",
      zone: "zone-a",
      hostId: f.hostId,
      placedAt: "2025-01-01T00:00:00Z",
    });
    expect(backwards.status).toBe(400);
    const other = await fleet();
    expect(
      (
        await put({
          projectId: other.projectId,
          name: "db-1",
          zone: "zone-a",
          hostId: null,
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await put({
          projectId: "nope",
          name: "db-1",
          zone: "zone-a",
          hostId: null,
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await put({
          projectId: f.projectId,
          name: "db-1",
          zone: "zone-a",
          hostId: "nope",
        })
      ).status,
    ).toBe(400);
    const del = await api("DELETE", `/api/v1/admin/vms/${vmId}`, { token: op });
    expect(del.status).toBe(204);
    expect(
      (await api("DELETE", `/api/v1/admin/vms/${vmId}`, { token: op })).status,
    ).toBe(404);
    const rows = await rawRows<{ n: number }>(
      await getDb(),
      sql`select count(*)::int as n from vm_placements where vm_id = ${vmId}`,
    );
    expect(rows[0]!.n).toBe(3);
  });
});

describe("operator API: credentials", () => {
  it("host tokens: 201 once, listed without secret, hashed at rest, revoked at once", async () => {
    const op = await operator();
    const f = await fleet();
    const made = await api("POST", `/api/v1/admin/hosts/${f.hostId}/tokens`, {
      token: op,
    });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^pwh_/);
    const list = await api("GET", `/api/v1/admin/hosts/${f.hostId}/tokens`, {
      token: op,
    });
    expect(list.body.data.map((t: { id: string }) => t.id)).toContain(
      made.body.id,
    );
    expect(JSON.stringify(list.body)).not.toContain(made.body.token);
    const db = await getDb();
    const plain = await rawRows(
      db,
      sql`select * from host_tokens where token_hash = ${made.body.token}`,
    );
    expect(plain).toHaveLength(0);
    const dump = JSON.stringify(
      await rawRows(db, sql`select * from host_tokens`),
    );
    expect(dump).not.toContain(made.body.token);
    // a host token authenticates (403 on an operator route proves it was recognised)
    expect(
      (await api("GET", "/api/v1/admin/policy", { token: made.body.token }))
        .status,
    ).toBe(403);
    expect(
      (
        await api(
          "DELETE",
          `/api/v1/admin/hosts/${f.hostId}/tokens/${made.body.id}`,
          { token: op },
        )
      ).status,
    ).toBe(204);
    expect(
      (await api("GET", "/api/v1/admin/policy", { token: made.body.token }))
        .status,
    ).toBe(401);
    expect(
      (
        await api("POST", `/api/v1/admin/hosts/no-such-host/tokens`, {
          token: op,
        })
      ).status,
    ).toBe(404);
  });

  it("a host token used by many requests is refused by every request after its revoke answers", async () => {
    // on PGlite an active host token is remembered in memory after its first use
    const op = await operator();
    const f = await fleet();
    const made = await api("POST", `/api/v1/admin/hosts/${f.hostId}/tokens`, {
      token: op,
    });
    const probe = () =>
      api("GET", "/api/v1/admin/policy", { token: made.body.token });
    expect((await probe()).status).toBe(403);
    // requests in flight while the revoke runs may see either answer …
    const during = Array.from({ length: 20 }, probe);
    const revoked = await api(
      "DELETE",
      `/api/v1/admin/hosts/${f.hostId}/tokens/${made.body.id}`,
      { token: op },
    );
    expect(revoked.status).toBe(204);
    for (const r of await Promise.all(during))
      expect([401, 403]).toContain(r.status);
    // … every request made after it answered is refused
    const after = await Promise.all(Array.from({ length: 20 }, probe));
    expect(after.map((r) => r.status)).toEqual(Array(20).fill(401));
  });

  it("tenant API keys: 201 once, hashed, revoked at once", async () => {
    const op = await operator();
    const f = await fleet();
    const made = await api(
      "POST",
      `/api/v1/admin/tenants/${f.tenantId}/api-keys`,
      { token: op },
    );
    expect(made.status).toBe(201);
    expect(made.body.key).toMatch(/^pwk_/);
    const dump = JSON.stringify(
      await rawRows(await getDb(), sql`select * from api_keys`),
    );
    expect(dump).not.toContain(made.body.key);
    expect(
      (await api("GET", "/api/v1/admin/policy", { token: made.body.key }))
        .status,
    ).toBe(403);
    const list = await api(
      "GET",
      `/api/v1/admin/tenants/${f.tenantId}/api-keys`,
      { token: op },
    );
    expect(list.body.data).toHaveLength(2);
    expect(
      (
        await api(
          "DELETE",
          `/api/v1/admin/tenants/${f.tenantId}/api-keys/${made.body.id}`,
          { token: op },
        )
      ).status,
    ).toBe(204);
    expect(
      (await api("GET", "/api/v1/admin/policy", { token: made.body.key }))
        .status,
    ).toBe(401);
  });

  it("members: 201, role change is an upsert, unknown tenant 404", async () => {
    const op = await operator();
    const f = await fleet();
    const m = await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
      token: op,
      body: { email: "Ana@Example.com", role: "viewer" },
    });
    expect(m.status).toBe(201);
    expect(m.body).toMatchObject({
      tenantId: f.tenantId,
      email: "ana@example.com",
      role: "viewer",
    });
    const again = await api(
      "POST",
      `/api/v1/admin/tenants/${f.tenantId}/members`,
      { token: op, body: { email: "ana@example.com", role: "owner" } },
    );
    expect(again.body.role).toBe("owner");
    expect(again.body.id).toBe(m.body.id);
    expect(
      (
        await api("POST", `/api/v1/admin/tenants/nope/members`, {
          token: op,
          body: { email: "a@b.co", role: "owner" },
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await api("POST", `/api/v1/admin/tenants/${f.tenantId}/members`, {
          token: op,
          body: { email: "a@b.co", role: "admin" },
        })
      ).status,
    ).toBe(400);
  });
});

describe("operator API: policy and callback", () => {
  it("serves the defaults and merges a partial PUT", async () => {
    const op = await operator();
    const get = await api("GET", "/api/v1/admin/policy", { token: op });
    expect(get.body).toEqual({
      windowSeconds: 86400,
      vmPages: 4,
      evacuateOnGuestKernel: true,
      hostDegradedPages: 8,
      hostEvacuatePages: 16,
      quietPeriodSeconds: 86400,
      coalesceSeconds: 300,
      maxDeferSeconds: 86400,
    });
    const put = await api("PUT", "/api/v1/admin/policy", {
      token: op,
      body: { vmPages: 3 },
    });
    expect(put.body.vmPages).toBe(3);
    expect(
      (await api("GET", "/api/v1/admin/policy", { token: op })).body.vmPages,
    ).toBe(3);
    const bad = await api("PUT", "/api/v1/admin/policy", {
      token: op,
      body: { vmPages: 0, bogus: 1 },
    });
    expect(bad.status).toBe(400);
    const order = await api("PUT", "/api/v1/admin/policy", {
      token: op,
      body: { hostDegradedPages: 20, hostEvacuatePages: 10 },
    });
    expect(order.status).toBe(400);
    await api("PUT", "/api/v1/admin/policy", {
      token: op,
      body: { vmPages: 4 },
    });
  });

  it("answers the callback secret when made and on rotation only", async () => {
    const op = await operator();
    const first = await api("PUT", "/api/v1/admin/callback", {
      token: op,
      body: { url: "http://cp.internal:8080/evac" },
    });
    expect(first.status).toBe(200);
    expect(first.body.secret).toMatch(/^whsec_/);
    const again = await api("PUT", "/api/v1/admin/callback", {
      token: op,
      body: { url: "http://cp.internal:8080/evac2" },
    });
    expect(again.body).toEqual({ url: "http://cp.internal:8080/evac2" });
    const rotated = await api("PUT", "/api/v1/admin/callback", {
      token: op,
      body: { url: "http://cp.internal:8080/evac2", rotateSecret: true },
    });
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(first.body.secret);
    expect(
      (
        await api("PUT", "/api/v1/admin/callback", {
          token: op,
          body: { url: "ftp://x" },
        })
      ).status,
    ).toBe(400);
  });

  it("serves an OpenAPI document of every route and 404s unknown paths", async () => {
    const doc = await api("GET", "/api/v1/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe("3.1.0");
    expect(
      doc.body.paths["/api/v1/admin/vms/{vmId}"].put.requestBody,
    ).toBeTruthy();
    const nf = await api("GET", "/api/v1/nope");
    expect(nf.status).toBe(404);
    expect(nf.body.error.code).toBe("not_found");
  });
});
