import type { z } from "zod";
import type { Db } from "@/db/client";
import { ApiError, NotFoundError, ValidationError } from "@/server/errors";
import { parseOrThrow } from "./conventions";
import { jsonLimitProblem, textProblem } from "./json-limits";
import type { AuthKind, Principal } from "./principal";
import { authenticate } from "./principal";
import { readBodyText } from "./read-body";
import { errorResponse, json } from "./respond";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type HandlerArgs<P, Q, B> = {
  req: Request;
  db: Db;
  params: P;
  query: Q;
  body: B;
  principal: Principal | null;
};

export type HandlerResult = Response | { status: number; body: unknown; headers?: Record<string, string> };

export type RouteDef<P = any, Q = any, B = any> = {
  method: Method;
  path: string; // "/api/v1/admin/tenants/{tenantId}"
  auth: AuthKind[];
  summary: string;
  tag: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  // the handler reads the body itself (ingestion: media types, batch limits)
  rawBody?: boolean;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handler: (args: HandlerArgs<P, Q, B>) => Promise<HandlerResult>;
};

export function defineRoute<P, Q, B>(def: RouteDef<P, Q, B>): RouteDef<P, Q, B> {
  return def;
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
    throw new ApiError("unsupported_media_type", "Send the body as application/json");
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError("Body is not valid JSON");
  }
  const problem = jsonLimitProblem(value);
  if (problem) throw new ValidationError(`Body not accepted: ${problem.message}`, [problem]);
  return value;
}

function decodePathParams(names: string[], m: RegExpExecArray): Record<string, string> {
  const params: Record<string, string> = {};
  names.forEach((n, i) => {
    try {
      params[n] = decodeURIComponent(m[i + 1] ?? "");
    } catch {
      throw new ValidationError("Invalid path", [{ path: `path.${n}`, message: "not valid percent-encoded UTF-8" }]);
    }
  });
  checkText(params, "path");
  return params;
}

// Path and query values end up in SQL parameters like body strings do: the same text rules apply.
function checkText(values: Record<string, string>, where: "path" | "query"): void {
  for (const [k, v] of Object.entries(values)) {
    const p = textProblem(k) ?? textProblem(v);
    if (p) throw new ValidationError(`Invalid ${where}`, [{ path: `${where}.${k}`, message: p }]);
  }
}

export function createApiRouter(routes: RouteDef[], getDb: () => Promise<Db>) {
  const compiled = routes.map(compile);

  async function handle(req: Request): Promise<Response> {
    try {
      const url = new URL(req.url);
      const method = req.method.toUpperCase();
      let pathMatched = false;
      for (const c of compiled) {
        const m = c.regex.exec(url.pathname);
        if (!m) continue;
        pathMatched = true;
        if (c.def.method !== method) continue;
        const db = await getDb();
        const principal = await authenticate(db, req, c.def.auth);
        const rawParams = decodePathParams(c.names, m);
        const rawQuery = Object.fromEntries(url.searchParams.entries());
        checkText(rawQuery, "query");
        const params = c.def.params ? parseOrThrow(c.def.params, rawParams, "path") : rawParams;
        const query = c.def.query ? parseOrThrow(c.def.query, rawQuery, "query") : {};
        let body: unknown = undefined;
        if (!c.def.rawBody && (method === "POST" || method === "PUT" || method === "PATCH")) {
          const raw = await readJsonBody(req);
          // an empty body is {}; a JSON null stays null (a nullable body: "clear it")
          if (c.def.body) body = parseOrThrow(c.def.body, raw === undefined ? {} : raw, "body");
        }
        const result = await c.def.handler({ req, db, params, query, body, principal });
        if (result instanceof Response) return result;
        return json(result.status, result.body, result.headers);
      }
      throw new NotFoundError(
        pathMatched ? `${method} is not supported on ${url.pathname}` : `No endpoint at ${url.pathname}`,
      );
    } catch (e) {
      return errorResponse(e);
    }
  }

  return { handle, routes };
}
