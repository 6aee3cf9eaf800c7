import { readFileSync } from "node:fs";
import createClient from "openapi-fetch";
import { describe, expect, it } from "vitest";
import { apiRouter, openApiDocument } from "@/server/http/routes";
import { operator } from "../helpers/api";
import { generateOpenApiTypes, TYPES_FILE } from "../helpers/openapi-client";
import type { paths } from "../helpers/openapi-types";
import { securityWorld } from "../helpers/security-world";

// A client an integrator generates: openapi-typescript's types of the document (TYPES_FILE, kept
// in the repository and type-checked with it) and openapi-fetch. Every list and resource is read
// through it; `npm run typecheck` fails if an answer the test reads has no type (content?: never).

const client = createClient<paths>({
  baseUrl: "http://localhost",
  fetch: (req) => apiRouter.handle(req),
});
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("the typed client", () => {
  it("is generated from the current document (regenerate with npm run -s openapi:types)", async () => {
    expect(readFileSync(TYPES_FILE, "utf8")).toBe(await generateOpenApiTypes());
  });

  it("has a typed body for every answer but the empty ones (204)", () => {
    const doc = openApiDocument() as unknown as {
      paths: Record<
        string,
        Record<
          string,
          {
            operationId: string;
            responses: Record<string, { content?: unknown }>;
          }
        >
      >;
    };
    const untyped: string[] = [];
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        for (const [status, r] of Object.entries(op.responses))
          if (status !== "204" && !r.content)
            untyped.push(`${op.operationId} ${status}`);
      }
    }
    expect(untyped).toEqual([]);
    const text = readFileSync(TYPES_FILE, "utf8");
    const emptyAnswers = Object.values(doc.paths).flatMap((ops) =>
      Object.values(ops).filter((op) => op.responses["204"]),
    ).length;
    expect(text.match(/content\?: never;/g)?.length ?? 0).toBe(emptyAnswers);
  });

  it("reads every tenant list and resource", async () => {
    const w = await securityWorld();
    const headers = bearer(w.apiKey);
    const logs = await client.GET("/api/v1/log-entries", {
      params: { query: { vmId: w.vmId, limit: 10 } },
      headers,
    });
    expect(logs.data?.data[0]?.jsonPayload.eventId).toMatch(/^evt_/);
    expect(logs.data?.data[0]?.resource.labels.vmId).toBe(w.vmId);
    const incidents = await client.GET("/api/v1/incidents", {
      params: { query: { status: "evacuating" } },
      headers,
    });
    expect(incidents.data?.data[0]?.id).toBe(w.incidentId);
    const incident = await client.GET("/api/v1/incidents/{incidentId}", {
      params: { path: { incidentId: w.incidentId } },
      headers,
    });
    expect(incident.data?.playbook.steps.length).toBeGreaterThan(0);
    expect(incident.data?.timeline[0]?.kind).toBeTypeOf("string");
    expect(incident.data?.evacuation?.id).toBe(w.evacuationId);
    const vms = await client.GET("/api/v1/vms", {
      params: { query: { limit: 5 } },
      headers,
    });
    expect(vms.data?.data.map((v) => v.id)).toContain(w.vmId);
    const vm = await client.GET("/api/v1/vms/{vmId}", {
      params: { path: { vmId: w.vmId } },
      headers,
    });
    expect(vm.data?.memoryHealth.evacuation?.status).toBe("scheduled");
    const hooks = await client.GET("/api/v1/webhooks", { headers });
    expect(hooks.data?.data[0]?.id).toBe(w.webhookId);
    const deliveries = await client.GET("/api/v1/webhooks/{id}/deliveries", {
      params: { path: { id: w.webhookId } },
      headers,
    });
    expect(deliveries.data?.data[0]?.messageId).toBe(w.messageId);
    const settings = await client.GET("/api/v1/notification-settings", {
      headers,
    });
    expect(settings.data?.minSeverity).toBe("WARNING");
    const window = await client.GET(
      "/api/v1/projects/{projectId}/maintenance-window",
      { params: { path: { projectId: w.projectId } }, headers },
    );
    expect(window.data).toBeNull();
    // errors are typed too
    const missing = await client.GET("/api/v1/vms/{vmId}", {
      params: { path: { vmId: "no-such-vm" } },
      headers,
    });
    expect(missing.error?.error.code).toBe("not_found");
  });

  it("reads every operator list and resource", async () => {
    const w = await securityWorld();
    const headers = bearer(await operator());
    const policy = await client.GET("/api/v1/admin/policy", { headers });
    expect(policy.data?.vmPages).toBeGreaterThan(0);
    const preview = await client.POST("/api/v1/admin/policy/preview", {
      body: { vmPages: 1 },
      headers,
    });
    expect(preview.data?.candidate.vmPages).toBe(1);
    expect(preview.data?.hosts.current.healthy).toBeTypeOf("number");
    const hosts = await client.GET("/api/v1/admin/hosts", {
      params: { query: { limit: 500 } },
      headers,
    });
    expect(hosts.data?.data.map((h) => h.id)).toContain(w.hostId);
    const health = await client.GET("/api/v1/admin/hosts/{hostId}/health", {
      params: { path: { hostId: w.hostId } },
      headers,
    });
    expect(health.data?.state).toBe("healthy");
    const tokens = await client.GET("/api/v1/admin/hosts/{hostId}/tokens", {
      params: { path: { hostId: w.hostId } },
      headers,
    });
    expect(tokens.data?.data[0]?.id).toBe(w.tokenId);
    const keys = await client.GET("/api/v1/admin/tenants/{tenantId}/api-keys", {
      params: { path: { tenantId: w.tenantId } },
      headers,
    });
    expect(keys.data?.data[0]).toMatchObject({ id: w.keyId, name: null });
    const evacuations = await client.GET("/api/v1/admin/evacuations", {
      params: { query: { tenantId: w.tenantId } },
      headers,
    });
    expect(evacuations.data?.data[0]?.id).toBe(w.evacuationId);
    const events = await client.GET("/api/v1/admin/events", {
      params: { query: { reason: "unknown_vm" } },
      headers,
    });
    expect(
      events.data?.nextCursor === null ||
        typeof events.data?.nextCursor === "string",
    ).toBe(true);
    const doc = await client.GET("/api/v1/openapi.json");
    expect(doc.data?.openapi).toBe("3.1.0");
    // 503 while the workers are down, as in this test: the same Health body
    const live = await client.GET("/api/health");
    expect(live.response.status).toBe(503);
    expect(
      live.error && "database" in live.error ? live.error.database : null,
    ).toBe(true);
  });
});
