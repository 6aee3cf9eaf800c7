import { z } from "zod";
import { OPERATION_EXAMPLES, PARAM_EXAMPLES } from "./examples";
import type { OperationExample } from "./examples";
import type { RouteDef } from "./router";
import { hasJsonBody, responsesOf } from "./router";

type Json = Record<string, unknown>;
type Io = "input" | "output";

const REF_PREFIX = "#/components/schemas/";

function rewriteRefs(value: unknown, names: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, names));
  if (value === null || typeof value !== "object") return value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value as Json)) {
    if (k === "$ref" && typeof v === "string" && v.startsWith("#/$defs/")) {
      const id = v.slice("#/$defs/".length);
      out[k] = REF_PREFIX + (names.get(id) ?? id);
    } else {
      out[k] = rewriteRefs(v, names);
    }
  }
  return out;
}

// The named schemas of the document. A zod schema with `.meta({ id })` becomes
// components/schemas/<id> and is referenced wherever it is used; the rest is inlined.
export class SchemaComponents {
  readonly schemas: Record<string, Json> = {};

  // Converts with zod's own JSON Schema (2020-12) generator and hoists its $defs. An input
  // shape that differs from the output shape of the same id (defaults, transforms) is named
  // `<id>Input`; two different schemas under one name are a programming error.
  convert(schema: z.ZodType, io: Io): Json {
    const {
      $schema: _s,
      $defs,
      ...rest
    } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json & {
      $defs?: Record<string, Json>;
    };
    const defs = $defs ?? {};
    const names = new Map(Object.keys(defs).map((id) => [id, id]));
    for (let changed = true; changed;) {
      changed = false;
      for (const [id, def] of Object.entries(defs)) {
        const name = names.get(id)!;
        const existing = this.schemas[name];
        if (
          !existing ||
          JSON.stringify(existing) === JSON.stringify(rewriteRefs(def, names))
        )
          continue;
        if (io === "input" && name === id) {
          names.set(id, `${id}Input`);
          changed = true;
        } else {
          throw new Error(`OpenAPI: two different schemas are named ${name}`);
        }
      }
    }
    for (const [id, def] of Object.entries(defs))
      this.schemas[names.get(id)!] ??= rewriteRefs(def, names) as Json;
    return rewriteRefs(rest, names) as Json;
  }
}

function parametersOf(
  components: SchemaComponents,
  s: z.ZodType | undefined,
  where: "path" | "query",
  example: Record<string, string | number>,
) {
  if (!s) return [];
  const js = components.convert(s, "input") as {
    properties?: Record<string, Json>;
    required?: string[];
  };
  return Object.entries(js.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: where,
      required: where === "path" || (js.required ?? []).includes(name),
      ...(typeof description === "string" ? { description } : {}),
      schema: rest,
      ...(example[name] !== undefined ? { example: example[name] } : {}),
    };
  });
}

// An operation's example (server/http/examples.ts), checked against the route's own schemas.
function exampleOf(r: RouteDef): OperationExample {
  const own = OPERATION_EXAMPLES[r.operationId] ?? {};
  const names = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const params = Object.fromEntries(
    names.map((n) => [n, own.params?.[n] ?? PARAM_EXAMPLES[n]]),
  );
  const missing = names.filter((n) => params[n] === undefined);
  if (missing.length)
    throw new Error(
      `OpenAPI: no example for {${missing.join("}, {")}} (server/http/examples.ts)`,
    );
  const check = (what: string, s: z.ZodType | undefined, v: unknown) => {
    const res = s?.safeParse(v);
    if (res && !res.success)
      throw new Error(
        `OpenAPI: the ${what} example of ${r.operationId} is invalid: ${res.error.message}`,
      );
  };
  check("path", r.params, params);
  check("query", r.query, own.query ?? {});
  if (own.body !== undefined) check("body", r.body, own.body);
  return { ...own, params: params as Record<string, string> };
}

const TAGS: Record<string, string> = {
  meta: "The service itself: this document and liveness",
  ingestion: "Memory-error events from VMM hosts (host tokens)",
  inventory:
    "Tenants, projects, hosts, VMs and members, kept by the control plane (operator token)",
  credentials: "Host tokens and tenant API keys (operator token)",
  policy: "The health policy and the control-plane callback (operator token)",
  health: "Host health and the fleet (operator token)",
  evacuations: "VM evacuations: by the policy or by hand (operator token)",
  operator: "Uncorrelated events and Prometheus metrics (operator token)",
  tenant: "A tenant's log entries, incidents and VMs (tenant API key)",
  webhooks:
    "A tenant's webhook subscriptions and their deliveries (tenant API key)",
  channels:
    "A tenant's chat and paging channels (Slack, Microsoft Teams, PagerDuty) and their deliveries (tenant API key)",
  notifications: "A tenant's email notification settings (tenant API key)",
  feeds:
    "Feed tokens (tenant API key) and the Atom and iCalendar feeds they read (feed token)",
};

const SECURITY: Record<string, string> = {
  operator: "operatorToken",
  host: "hostToken",
  tenant: "tenantApiKey",
  feed: "feedToken",
};

function responseObject(
  components: SchemaComponents,
  r: ReturnType<typeof responsesOf>[number],
): Json {
  const types =
    typeof r.contentType === "string" ? [r.contentType] : (r.contentType ?? []);
  const content = r.schema
    ? {
        [types[0] ?? "application/json"]: {
          schema: components.convert(r.schema, "output"),
        },
      }
    : types.length
      ? Object.fromEntries(
          types.map((t) => [t, { schema: { type: "string" } }]),
        )
      : undefined;
  return {
    description: r.description,
    ...(r.headers ? { headers: r.headers } : {}),
    ...(content ? { content } : {}),
  };
}

// The OpenAPI 3.1 document, generated from the same zod schemas that validate requests and
// describe answers. Every status the router or the handler can answer is listed (responsesOf).
export function buildOpenApi(routes: RouteDef[]) {
  const components = new SchemaComponents();
  const ids = new Set<string>();
  const paths: Record<string, Record<string, Json>> = {};
  // Answers first: a resource's name belongs to its output shape; input variants get `Input`.
  const responses = routes.map((r) =>
    Object.fromEntries(
      Object.entries(responsesOf(r)).map(([code, resp]) => [
        code,
        responseObject(components, resp),
      ]),
    ),
  );
  routes.forEach((r, i) => {
    if (ids.has(r.operationId))
      throw new Error(`OpenAPI: operationId ${r.operationId} is used twice`);
    ids.add(r.operationId);
    const ex = exampleOf(r);
    const op: Json = {
      operationId: r.operationId,
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: [r.tag],
      parameters: [
        ...parametersOf(components, r.params, "path", ex.params ?? {}),
        ...parametersOf(components, r.query, "query", ex.query ?? {}),
        ...(r.rawBody?.headers ?? []).map((h) => ({
          ...h,
          in: "header",
          required: false,
        })),
      ],
      responses: responses[i],
      // public routes say so explicitly (an empty requirement overrides none: there is no global one)
      security: r.auth
        .filter((a) => a !== "none")
        .map((a) => ({ [SECURITY[a]!]: [] })),
    };
    const example = ex.body !== undefined ? { example: ex.body } : {};
    if (r.body) {
      op.requestBody = {
        required: true,
        content: {
          "application/json": {
            schema: components.convert(r.body, "input"),
            ...example,
          },
        },
      };
    } else if (r.rawBody) {
      const content = r.rawBody.content((s) => components.convert(s, "input"));
      const mt = ex.contentType;
      if (mt && content[mt]) content[mt] = { ...content[mt], ...example };
      op.requestBody = { required: true, content };
    } else if (hasJsonBody(r)) {
      // no body is read, but one sent is still parsed (and so 400/413/415 apply)
      op.requestBody = {
        required: false,
        content: {
          "application/json": { schema: { type: "object", maxProperties: 0 } },
        },
      };
    }
    paths[r.path] ??= {};
    paths[r.path]![r.method.toLowerCase()] = op;
  });
  return {
    openapi: "3.1.0",
    info: {
      title: "Poisonwatch API",
      version: "1.0.0",
      summary:
        "Memory-error ingestion, fleet operations and tenant notifications",
      description:
        "Memory-error ingestion (host tokens), inventory and operator API (operator token), tenant REST API (tenant API keys). " +
        "Errors are { error: { code, message, details? } }; times are RFC 3339 UTC with milliseconds. " +
        "A path answers OPTIONS with its methods in Allow, HEAD wherever it answers GET, and 405 with Allow for another method.",
      license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
    },
    servers: [{ url: "/" }],
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => {
      if (!TAGS[name])
        throw new Error(`OpenAPI: tag ${name} has no description`);
      return { name, description: TAGS[name] };
    }),
    components: {
      schemas: Object.fromEntries(
        Object.entries(components.schemas).sort(([a], [b]) =>
          a.localeCompare(b),
        ),
      ),
      securitySchemes: {
        operatorToken: {
          type: "http",
          scheme: "bearer",
          description: "OPERATOR_TOKEN (pwo_…)",
        },
        hostToken: {
          type: "http",
          scheme: "bearer",
          description: "Host token (pwh_…), one host each",
        },
        tenantApiKey: {
          type: "http",
          scheme: "bearer",
          description: "Tenant API key (pwk_…), member rights",
        },
        feedToken: {
          type: "apiKey",
          in: "query",
          name: "token",
          description:
            "Feed token (pwf_…), reads only the feeds; Authorization: Bearer is also accepted",
        },
      },
    },
    paths,
  };
}
