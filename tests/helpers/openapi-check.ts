import { Ajv2020 } from "ajv/dist/2020";
import type { ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { apiRouter, openApiDocument } from "@/server/http/routes";

// Every answer of the REST API checked against the OpenAPI document: its status must be one the
// operation lists, and its JSON body must validate against that response's schema (JSON Schema
// 2020-12, the dialect of OpenAPI 3.1). tests/helpers/api.ts runs it on every call, so every
// integration test is also a test of the document.

type Json = Record<string, any>;
const BASE = "https://poisonwatch.invalid/openapi.json";

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

function withRefs(schema: unknown): unknown {
  return JSON.parse(
    JSON.stringify(schema).replaceAll(
      '"#/components/schemas/',
      `"${BASE}#/$defs/`,
    ),
  );
}

function ajvOf(doc: Json): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  // OpenAPI 3.1's own keywords beside JSON Schema's
  ajv.addVocabulary(["example", "discriminator", "xml", "externalDocs"]);
  ajv.addSchema({ $id: BASE, $defs: withRefs(doc.components.schemas) as Json });
  return ajv;
}

export function validatorOf(
  operationId: string,
  status: number,
  mediaType: string,
  schema: unknown,
): ValidateFunction {
  const key = `${operationId} ${status} ${mediaType}`;
  let v = validators.get(key);
  if (!v) {
    v = ajvOf(openApiDocument() as Json).compile(withRefs(schema) as Json);
    validators.set(key, v);
  }
  return v;
}

export function operationOf(
  method: string,
  path: string,
): { operationId: string; op: Json } | null {
  const route = apiRouter.match(
    method,
    new URL(path, "http://localhost").pathname,
  );
  if (!route) return null;
  const op = (openApiDocument() as Json).paths[route.path][
    route.method.toLowerCase()
  ];
  return { operationId: route.operationId, op };
}

// The problems of one answer against the document ([] when it matches).
export function documentProblems(
  method: string,
  path: string,
  status: number,
  headers: Headers,
  body: unknown,
): string[] {
  if (method === "OPTIONS" || status === 405) return []; // the path's, not an operation's (Allow)
  const hit = operationOf(method, path);
  if (!hit)
    return status === 404
      ? []
      : [
          `${method} ${path} answered ${status} but is no operation of the document`,
        ];
  const what = `${hit.operationId} (${method} ${path}) answered ${status}`;
  const resp = hit.op.responses[String(status)];
  if (!resp)
    return [
      `${what}, which the OpenAPI document does not list for it (add it to the route's responses)`,
    ];
  if (method === "HEAD" || status === 204) return [];
  const contentType = (headers.get("content-type") ?? "").split(";")[0]!.trim();
  const content = resp.content as Json | undefined;
  if (!content)
    return body === null || body === ""
      ? []
      : [`${what} with a body, documented without one`];
  const mt = Object.keys(content).find(
    (k) => k.split(";")[0]!.trim() === contentType,
  );
  if (!mt)
    return [
      `${what} as ${contentType}, documented as ${Object.keys(content).join(", ")}`,
    ];
  // a JSON document (NDJSON is lines of JSON, no document: checked by the tests that read it)
  if (contentType !== "application/json" && !contentType.endsWith("+json"))
    return [];
  const v = validatorOf(hit.operationId, status, mt, content[mt].schema);
  if (v(body)) return [];
  return [
    `${what}: the body does not match the document: ${JSON.stringify(v.errors?.slice(0, 5))}`,
  ];
}
