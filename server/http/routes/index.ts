import { z } from "zod";
import { getDb } from "@/db";
import { checkHealth } from "@/server/readiness";
import { buildOpenApi } from "../openapi";
import { createApiRouter, defineRoute } from "../router";
import type { RouteDef } from "../router";
import { adminEventRoutes } from "./admin-events";
import { adminHealthRoutes } from "./admin-health";
import { adminInventoryRoutes } from "./admin-inventory";
import { adminPolicyRoutes } from "./admin-policy";
import { ingestRoutes } from "./ingest";
import { tenantEvacuationRoutes } from "./tenant-evacuations";
import { tenantFeedRoutes } from "./tenant-feeds";
import { tenantReadRoutes } from "./tenant-reads";
import { tenantChannelRoutes } from "./tenant-channels";
import { tenantWebhookRoutes } from "./tenant-webhooks";

const domainRoutes: RouteDef[] = [
  ...ingestRoutes,
  ...adminInventoryRoutes,
  ...adminPolicyRoutes,
  ...adminEventRoutes,
  ...adminHealthRoutes,
  ...tenantReadRoutes,
  ...tenantEvacuationRoutes,
  ...tenantWebhookRoutes,
  ...tenantFeedRoutes,
  ...tenantChannelRoutes,
];

const Health = z
  .object({
    status: z.enum(["ok", "degraded"]),
    database: z.boolean(),
    workers: z.boolean(),
  })
  .meta({
    id: "Health",
    description: "ok when the database answers and the workers run",
  });

const metaRoutes: RouteDef[] = [
  defineRoute({
    method: "GET",
    path: "/api/v1/openapi.json",
    operationId: "getOpenApiDocument",
    auth: ["none"],
    tag: "meta",
    summary: "This document (OpenAPI 3.1)",
    responses: {
      200: {
        description: "OpenAPI 3.1",
        schema: z
          .record(z.string(), z.unknown())
          .describe("an OpenAPI 3.1 document"),
      },
    },
    handler: async () => ({ status: 200, body: openApiDocument() }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/health",
    operationId: "getHealth",
    auth: ["none"],
    tag: "meta",
    summary: "Liveness of the database and the workers",
    responses: {
      200: { description: "Healthy", schema: Health },
      503: {
        description: "The database or the workers are down",
        schema: Health,
      },
    },
    handler: async () => {
      const h = await (async () => checkHealth(await getDb()))().catch(() => ({
        status: "degraded" as const,
        database: false,
        workers: false,
      }));
      return { status: h.status === "ok" ? 200 : 503, body: h };
    },
  }),
];

export const allRoutes: RouteDef[] = [...metaRoutes, ...domainRoutes];

let openApiDoc: ReturnType<typeof buildOpenApi> | undefined;
export function openApiDocument() {
  return (openApiDoc ??= buildOpenApi(allRoutes));
}

export const apiRouter = createApiRouter(allRoutes, getDb);
