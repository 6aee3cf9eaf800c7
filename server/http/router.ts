import type { z } from "zod";
import type { Db } from "@/db/client";
import { bearerOf } from "@/server/auth-tokens";
import type { ServiceContext } from "@/server/context";
import { serviceContext } from "@/server/context";
import { env } from "@/server/env";
import {
  ApiError,
  MethodNotAllowedError,
  NotFoundError,
  ValidationError,
} from "@/server/errors";
import { parseOrThrow } from "@/server/core/validation";
import { jsonLimitProblem, textProblem } from "@/server/core/json-limits";
import type { AuthKind, Principal } from "./principal";
import { authenticate } from "./principal";
import { MAX_JSON_BODY, readBodyText } from "./read-body";
import { errorResponse, json } from "./respond";
import { ErrorBody } from "./schemas";
import { withStrictTransportSecurity } from "./security-headers";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type HandlerArgs<P, Q, B> = {
  req: Request;
  // the request's service context: built once here, from the credential
  ctx: ServiceContext;
  db: Db;
  params: P;
  query: Q;
  body: B;
  principal: Principal | null;
};

export type HandlerResult =
  | Response
  | { status: number; body: unknown; headers?: Record<string, string> };

// One documented answer. No schema: an empty body (204) or, with contentType, text that is no JSON
// (several: the one the request's Accept picks).
export type ResponseDef = {
  description: string;
  schema?: z.ZodType;
  contentType?: string | string[];
  headers?: Record<
    string,
    { description: string; schema: Record<string, unknown> }
  >;
};

// A body the handler reads itself (ingestion: media types, batch limits): what it accepts, for the document.
// `schemaOf` turns a zod schema into the document's JSON Schema (named parts become components).
export type RawBodyDef = {
  content: (
    schemaOf: (s: z.ZodType) => Record<string, unknown>,
  ) => Record<string, { schema: Record<string, unknown> }>;
  // request headers that shape the body (Content-Encoding, CloudEvents binary mode's ce-*)
  headers?: {
    name: string;
    description: string;
    schema: Record<string, unknown>;
  }[];
};

// The defaults are `any` so one list can hold every route: a handler's argument types are
// contravariant, so no other default admits them all. defineRoute() keeps each route typed.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type RouteDef<P = any, Q = any, B = any> = {
  /* eslint-enable @typescript-eslint/no-explicit-any */
  method: Method;
  path: string; // "/api/v1/admin/tenants/{tenantId}"
  // unique across the API: the name generated clients give the call
  operationId: string;
  auth: AuthKind[];
  summary: string;
  description?: string;
  tag: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  rawBody?: RawBodyDef;
  // The statuses this route's handler answers; the router's own (400, 401, 403, 413, 415, 500) are
  // added by standardResponses() below.
  responses: Record<number, ResponseDef>;
  // Sees every error answer of this route (ingestion counts whole-request rejections).
  onError?: (e: ApiError) => void;
  handler: (args: HandlerArgs<P, Q, B>) => Promise<HandlerResult>;
};

export function defineRoute<P, Q, B>(
  def: RouteDef<P, Q, B>,
): RouteDef<P, Q, B> {
  return def;
}

export const hasJsonBody = (def: RouteDef) =>
  !def.rawBody &&
  (def.method === "POST" || def.method === "PUT" || def.method === "PATCH");

const errorAnswer = (
  description: string,
  headers?: ResponseDef["headers"],
): ResponseDef => ({
  description,
  schema: ErrorBody,
  ...(headers ? { headers } : {}),
});

// What the router itself can answer for a route, whatever its handler does.
export function standardResponses(def: RouteDef): Record<number, ResponseDef> {
  const out: Record<number, ResponseDef> = {
    400: errorAnswer(
      "Invalid path, query or body (invalid_request, with details)",
    ),
  };
  if (!def.auth.includes("none")) {
    out[401] = errorAnswer("Missing, unknown or revoked token (unauthorized)", {
      "WWW-Authenticate": {
        description: 'Bearer realm="poisonwatch" (RFC 6750)',
        schema: { type: "string" },
      },
    });
    out[403] = errorAnswer("A credential of another kind (forbidden)");
  }
  if (hasJsonBody(def)) {
    out[413] = errorAnswer(
      `Body over ${MAX_JSON_BODY} bytes (payload_too_large)`,
    );
    out[415] = errorAnswer(
      "Body not sent as application/json (unsupported_media_type)",
    );
  }
  out[500] = errorAnswer(
    "Unexpected failure (internal); nothing a client sent causes it",
  );
  return out;
}

// Every status a route can answer: its own, then the router's.
export function responsesOf(def: RouteDef): Record<number, ResponseDef> {
  return { ...standardResponses(def), ...def.responses };
}

type Compiled = { def: RouteDef; regex: RegExp; names: string[] };

function compile(def: RouteDef): Compiled {
  const names: string[] = [];
  const pattern = def.path
    .split("/")
    .map((seg) => {
      const m = /^\{(\w+)\}$/.exec(seg);
      if (m?.[1]) {
        names.push(m[1]);
        return "([^/]+)";
      }
      return seg.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&");
    })
    .join("/");
  return { def, regex: new RegExp(`^${pattern}/?$`), names };
}

export { MAX_JSON_BODY, readBodyText } from "./read-body";

export function mediaTypeOf(req: Request): string | null {
  const ct = req.headers.get("content-type");
  return ct ? (ct.split(";")[0] ?? "").trim().toLowerCase() : null;
}

async function readJsonBody(req: Request): Promise<unknown> {
  const text = await readBodyText(req);
  if (text.trim() === "") return undefined;
  const mt = mediaTypeOf(req);
  if (mt !== "application/json" && !(mt?.endsWith("+json") ?? false)) {
    throw new ApiError(
      "unsupported_media_type",
      "Send the body as application/json",
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError("Body is not valid JSON");
  }
  const problem = jsonLimitProblem(value);
  if (problem)
    throw new ValidationError(`Body not accepted: ${problem.message}`, [
      problem,
    ]);
  return value;
}

function decodePathParams(
  names: string[],
  m: RegExpExecArray,
): Record<string, string> {
  const params: Record<string, string> = {};
  names.forEach((n, i) => {
    try {
      params[n] = decodeURIComponent(m[i + 1] ?? "");
    } catch {
      throw new ValidationError("Invalid path", [
        { path: `path.${n}`, message: "not valid percent-encoded UTF-8" },
      ]);
    }
  });
  checkText(params, "path");
  return params;
}

// Path and query values end up in SQL parameters like body strings do: the same text rules apply.
function checkText(
  values: Record<string, string>,
  where: "path" | "query",
): void {
  for (const [k, v] of Object.entries(values)) {
    const p = textProblem(k) ?? textProblem(v);
    if (p)
      throw new ValidationError(`Invalid ${where}`, [
        { path: `${where}.${k}`, message: p },
      ]);
  }
}

// The methods a path answers: its routes', HEAD wherever GET is, and OPTIONS (RFC 9110 §9.3).
function allowOf(defs: RouteDef[]): string {
  const methods = new Set<string>(defs.map((d) => d.method));
  if (methods.has("GET")) methods.add("HEAD");
  methods.add("OPTIONS");
  return [...methods].sort().join(", ");
}

const WWW_AUTHENTICATE = 'Bearer realm="poisonwatch"';

function withHeaders(res: Response, headers: Record<string, string>): Response {
  for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
  return res;
}

function errorAnswerOf(e: unknown, req: Request): Response {
  const res = errorResponse(e);
  if (res.status === 401) {
    // RFC 6750 §3: a request without a token gets the bare challenge, a bad token an error code.
    const challenge = bearerOf(req)
      ? `${WWW_AUTHENTICATE}, error="invalid_token"`
      : WWW_AUTHENTICATE;
    res.headers.set("www-authenticate", challenge);
  }
  return res;
}

// The audit actor of a credential, and the tenant a tenant API key acts for.
function contextOf(db: Db, principal: Principal | null): ServiceContext {
  switch (principal?.kind) {
    case "operator":
      return serviceContext(db, "operator");
    case "tenant":
      return serviceContext(
        db,
        `api_key:${principal.keyId}`,
        principal.tenantId,
      );
    case "host":
      return serviceContext(db, `host:${principal.hostId}`);
    case "feed":
      return serviceContext(
        db,
        `feed_token:${principal.feedTokenId}`,
        principal.tenantId,
      );
    default:
      return serviceContext(db, "anonymous");
  }
}

export function createApiRouter(routes: RouteDef[], getDb: () => Promise<Db>) {
  const compiled = routes.map(compile);

  function matchesOf(pathname: string) {
    const out: { c: Compiled; m: RegExpExecArray }[] = [];
    for (const c of compiled) {
      const m = c.regex.exec(pathname);
      if (m) out.push({ c, m });
    }
    return out;
  }

  // The methods a path of this router answers (its Allow header), or null for a path it does not have.
  function allowAt(pathname: string): string | null {
    const matches = matchesOf(pathname);
    return matches.length ? allowOf(matches.map((x) => x.c.def)) : null;
  }

  // every answer, 204s and text ones included, carries HSTS when PUBLIC_URL is https
  const handle = async (req: Request): Promise<Response> =>
    withStrictTransportSecurity(await answer(req), env().publicUrl);

  async function answer(req: Request): Promise<Response> {
    const method = req.method.toUpperCase();
    let route: RouteDef | undefined;
    try {
      const url = new URL(req.url);
      const matches = matchesOf(url.pathname);
      if (matches.length === 0)
        throw new NotFoundError(`No endpoint at ${url.pathname}`);
      const allow = allowOf(matches.map((x) => x.c.def));
      if (method === "OPTIONS")
        return new Response(null, {
          status: 204,
          headers: { allow, "cache-control": "no-store" },
        });
      const hit = matches.find(
        (x) => x.c.def.method === (method === "HEAD" ? "GET" : method),
      );
      if (!hit) {
        return withHeaders(
          errorResponse(
            new MethodNotAllowedError(
              `${method} is not supported on ${url.pathname}; use ${allow}`,
            ),
          ),
          { allow },
        );
      }
      const { c, m } = hit;
      route = c.def;
      const db = await getDb();
      const principal = await authenticate(db, req, c.def.auth);
      const rawParams = decodePathParams(c.names, m);
      const rawQuery = Object.fromEntries(url.searchParams.entries());
      checkText(rawQuery, "query");
      const params = c.def.params
        ? parseOrThrow(c.def.params, rawParams, "path")
        : rawParams;
      const query = c.def.query
        ? parseOrThrow(c.def.query, rawQuery, "query")
        : {};
      let body: unknown = undefined;
      if (hasJsonBody(c.def)) {
        const raw = await readJsonBody(req);
        // an empty body is {}; a JSON null stays null (a nullable body: "clear it")
        if (c.def.body)
          body = parseOrThrow(c.def.body, raw === undefined ? {} : raw, "body");
      }
      const result = await c.def.handler({
        req,
        ctx: contextOf(db, principal),
        db,
        params,
        query,
        body,
        principal,
      });
      const res =
        result instanceof Response
          ? result
          : json(result.status, result.body, result.headers);
      // HEAD: the GET answer's status and headers, without its body
      return method === "HEAD"
        ? new Response(null, { status: res.status, headers: res.headers })
        : res;
    } catch (e) {
      if (route?.onError && e instanceof ApiError) route.onError(e);
      const res = errorAnswerOf(e, req);
      return method === "HEAD"
        ? new Response(null, { status: res.status, headers: res.headers })
        : res;
    }
  }

  // The route that answers a method on a path (HEAD: its GET), or null.
  function match(method: string, pathname: string): RouteDef | null {
    const m = method.toUpperCase() === "HEAD" ? "GET" : method.toUpperCase();
    return matchesOf(pathname).find((x) => x.c.def.method === m)?.c.def ?? null;
  }

  return { handle, routes, allowAt, match };
}
