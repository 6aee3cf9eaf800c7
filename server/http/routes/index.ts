import { getDb } from "@/db";
import { buildOpenApi } from "../openapi";
import { createApiRouter, defineRoute } from "../router";
import type { RouteDef } from "../router";
import { adminEventRoutes } from "./admin-events";
import { adminHealthRoutes } from "./admin-health";
import { adminInventoryRoutes } from "./admin-inventory";
import { adminPolicyRoutes } from "./admin-policy";
import { ingestRequestSchemas, ingestRoutes } from "./ingest";
import { tenantEvacuationRoutes } from "./tenant-evacuations";
import { tenantReadRoutes } from "./tenant-reads";
import { tenantWebhookRoutes } from "./tenant-webhooks";

const domainRoutes: RouteDef[] = [...ingestRoutes, ...adminInventoryRoutes, ...adminPolicyRoutes, ...adminEventRoutes, ...adminHealthRoutes, ...tenantReadRoutes, ...tenantEvacuationRoutes, ...tenantWebhookRoutes];

let openApiDoc: unknown;

const openApiRoute = defineRoute({
  method: "GET",
  path: "/api/v1/openapi.json",
  auth: ["none"],
  tag: "meta",
  summary: "This document",
  responses: { 200: { description: "OpenAPI 3.1" } },
  handler: async () => {
    openApiDoc ??= buildOpenApi(allRoutes, { ingestRequestSchemas: ingestRequestSchemas() });
    return { status: 200, body: openApiDoc };
  },
});

export const allRoutes: RouteDef[] = [openApiRoute, ...domainRoutes];

export const apiRouter = createApiRouter(allRoutes, getDb);
