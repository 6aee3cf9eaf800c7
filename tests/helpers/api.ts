import { getDb } from "@/db";
import {
  hashToken,
  newSecretToken,
  OPERATOR_TOKEN_SETTING,
} from "@/server/auth-tokens";
import { apiRouter } from "@/server/http/routes";
import { putSetting } from "@/server/app-settings";
import { documentProblems } from "./openapi-check";

export type ApiAnswer<T = any> = { status: number; body: T; headers: Headers };

export async function api<T = any>(
  method: string,
  path: string,
  opts: {
    token?: string;
    body?: unknown;
    rawBody?: string | Uint8Array<ArrayBuffer>;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (opts.rawBody !== undefined) body = opts.rawBody;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined)
    headers["content-type"] ??= opts.contentType ?? "application/json";
  const res = await apiRouter.handle(
    new Request(`http://localhost${path}`, { method, headers, body }),
  );
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON (e.g. Prometheus text) */
  }
  const problems = documentProblems(
    method,
    path,
    res.status,
    res.headers,
    parsed,
  );
  if (problems.length) {
    throw new Error(
      `The answer does not match the OpenAPI document (fix the answer, or the route's responses in server/http/routes / the schemas in server/http/schemas.ts):\n${problems.join("\n")}`,
    );
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

let operatorToken: string | undefined;

// The operator token of this test file's database.
export async function operator(): Promise<string> {
  if (!operatorToken) {
    operatorToken = newSecretToken("operator");
    await putSetting(
      await getDb(),
      OPERATOR_TOKEN_SETTING,
      hashToken(operatorToken),
    );
  }
  return operatorToken;
}

let seq = 0;
export function uid(prefix: string): string {
  seq += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${seq}`;
}

// A fresh tenant with a project, a host with a token, and a running VM on it.
export async function fleet(opts: { vms?: number } = {}) {
  const op = await operator();
  const tenantId = uid("t");
  const projectId = uid("p");
  const hostId = uid("h");
  await api("PUT", `/api/v1/admin/tenants/${tenantId}`, {
    token: op,
    body: {
      name: "Tenant " + tenantId,
      contactEmails: [`ops@${tenantId}.example`],
    },
  });
  await api("PUT", `/api/v1/admin/projects/${projectId}`, {
    token: op,
    body: { tenantId, name: "Project" },
  });
  await api("PUT", `/api/v1/admin/hosts/${hostId}`, {
    token: op,
    body: { zone: "zone-a" },
  });
  const tok = await api("POST", `/api/v1/admin/hosts/${hostId}/tokens`, {
    token: op,
  });
  const key = await api("POST", `/api/v1/admin/tenants/${tenantId}/api-keys`, {
    token: op,
  });
  const vmIds: string[] = [];
  for (let i = 0; i < (opts.vms ?? 1); i++) {
    const vmId = uid("vm");
    await api("PUT", `/api/v1/admin/vms/${vmId}`, {
      token: op,
      body: {
        projectId,
        name: `web-${i + 1}`,
        zone: "zone-a",
        hostId,
        placedAt: "2020-01-01T00:00:00Z",
      },
    });
    vmIds.push(vmId);
  }
  return {
    op,
    tenantId,
    projectId,
    hostId,
    hostToken: tok.body.token as string,
    apiKey: key.body.key as string,
    vmIds,
    vmId: vmIds[0]!,
  };
}
