import { z } from "zod";
import type { RouteDef } from "./router";

function schemaOf(s: z.ZodType, io: "input" | "output") {
  const { $schema: _drop, ...rest } = z.toJSONSchema(s, { io, unrepresentable: "any" }) as Record<string, unknown>;
  return rest;
}

function parametersOf(s: z.ZodType | undefined, where: "path" | "query") {
  if (!s) return [];
  const js = schemaOf(s, "input") as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, schema]) => ({
    name,
    in: where,
    required: where === "path" || (js.required ?? []).includes(name),
    schema,
  }));
}

const SECURITY: Record<string, string> = {
  operator: "operatorToken",
  host: "hostToken",
  tenant: "tenantApiKey",
};

// Generated from the same zod schemas that validate requests.
export function buildOpenApi(routes: RouteDef[], extra: { ingestRequestSchemas?: Record<string, unknown> } = {}) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      parameters: [...parametersOf(r.params, "path"), ...parametersOf(r.query, "query")],
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([code, resp]) => [
          code,
          {
            description: resp.description,
            ...(resp.schema ? { content: { "application/json": { schema: schemaOf(resp.schema, "output") } } } : {}),
          },
        ]),
      ),
    };
    const sec = r.auth.filter((a) => a !== "none").map((a) => ({ [SECURITY[a]!]: [] }));
    if (sec.length) op.security = sec;
    if (r.body) {
      op.requestBody = { required: true, content: { "application/json": { schema: schemaOf(r.body, "input") } } };
    } else if (r.rawBody && extra.ingestRequestSchemas) {
      op.requestBody = { required: true, content: extra.ingestRequestSchemas };
    }
    paths[r.path] ??= {};
    paths[r.path]![r.method.toLowerCase()] = op;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Poisonwatch API",
      version: "1.0.0",
      description:
        "Memory-error ingestion (host tokens), inventory and operator API (operator token), tenant REST API (tenant API keys). " +
        "Errors are { error: { code, message, details? } }; times are RFC 3339 UTC with milliseconds.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: {
        operatorToken: { type: "http", scheme: "bearer", description: "OPERATOR_TOKEN (pwo_…)" },
        hostToken: { type: "http", scheme: "bearer", description: "Host token (pwh_…), one host each" },
        tenantApiKey: { type: "http", scheme: "bearer", description: "Tenant API key (pwk_…), member rights" },
      },
    },
    paths,
  };
}
