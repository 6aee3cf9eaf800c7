import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setClock } from "@/server/clock";
import { EXAMPLE_NOW, MADE_BY_THE_SERVICE } from "@/server/http/examples";
import { openApiDocument } from "@/server/http/routes";
import { api, operator } from "../helpers/api";

// Every operation of the OpenAPI document, sent as its examples show it (parameters, query, body),
// in an order that makes each one meaningful; each answer must be the operation's success and is
// checked against the document (status listed, body valid: tests/helpers/api.ts). Ids the service
// makes are taken from earlier answers. A new operation fails the first test until it is placed here.

type Op = {
  operationId: string;
  parameters: {
    name: string;
    in: "path" | "query" | "header";
    example?: string | number;
  }[];
  requestBody?: {
    required: boolean;
    content: Record<string, { example?: unknown }>;
  };
  security: Record<string, string[]>[];
};
type Doc = { paths: Record<string, Record<string, Op>> };

const ORDER = [
  "getOpenApiDocument",
  "getHealth",
  "putTenant",
  "putProject",
  "putHost",
  "createHostToken",
  "listHostTokens",
  "putVm",
  "createApiKey",
  "listApiKeys",
  "addMember",
  "getPolicy",
  "putPolicy",
  "putCallback",
  "previewPolicy",
  "ingestEvents",
  "listLogEntries",
  "exportLogEntries",
  "listIncidents",
  "getIncident",
  "listVms",
  "getVm",
  "getMaintenanceWindow",
  "putMaintenanceWindow",
  "deferEvacuation",
  "startEvacuationNow",
  "evacuateVm",
  "listEvacuations",
  "startEvacuation",
  "cancelEvacuation",
  "getHostHealth",
  "listHosts",
  "listUncorrelatedEvents",
  "getMetrics",
  "createWebhook",
  "listWebhooks",
  "updateWebhook",
  "testWebhook",
  "listWebhookDeliveries",
  "retryWebhookDelivery",
  "rotateWebhookSecret",
  "recoverWebhookMessages",
  "deleteWebhook",
  "createChannel",
  "listChannels",
  "updateChannel",
  "testChannel",
  "listChannelDeliveries",
  "deleteChannel",
  "getNotificationSettings",
  "putNotificationSettings",
  "createFeedToken",
  "listFeedTokens",
  "getIncidentsFeed",
  "getEvacuationsFeed",
  "revokeFeedToken",
  "revokeHostToken",
  "revokeApiKey",
  "deleteVm",
];

const doc = openApiDocument() as unknown as Doc;
const operations = new Map<string, { method: string; path: string; op: Op }>();
for (const [path, ops] of Object.entries(doc.paths)) {
  for (const [method, op] of Object.entries(ops))
    operations.set(op.operationId, { method: method.toUpperCase(), path, op });
}

beforeAll(() => setClock(() => new Date(EXAMPLE_NOW)));
afterAll(() => setClock(undefined));

describe("the OpenAPI document's examples", () => {
  it("cover every operation, in the order below", () => {
    expect(
      [...operations.keys()].filter((id) => !ORDER.includes(id)),
      "add these to ORDER",
    ).toEqual([]);
    expect(
      ORDER.filter((id) => !operations.has(id)),
      "no such operation",
    ).toEqual([]);
  });

  it("each succeeds when sent as documented, and each answer matches the document", async () => {
    const tokens: Record<string, string> = { operatorToken: await operator() };
    const made: Record<string, string> = {};
    for (const operationId of ORDER) {
      const { method, path, op } = operations.get(operationId)!;
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => {
        const p = op.parameters.find(
          (x) => x.in === "path" && x.name === name,
        )!;
        expect(
          p.example,
          `${operationId}: no example for {${name}}`,
        ).toBeDefined();
        const value = MADE_BY_THE_SERVICE.includes(name)
          ? made[name]
          : String(p.example);
        expect(value, `${operationId}: no ${name} made yet`).toBeDefined();
        return encodeURIComponent(value!);
      });
      const query = new URLSearchParams(
        op.parameters
          .filter((x) => x.in === "query" && x.example !== undefined)
          .map((x) => [x.name, String(x.example)]),
      );
      let body: unknown;
      let contentType: string | undefined;
      if (op.requestBody) {
        const withExample = Object.entries(op.requestBody.content).find(
          ([, m]) => m.example !== undefined,
        );
        if (op.requestBody.required)
          expect(
            withExample,
            `${operationId}: the body has no example`,
          ).toBeDefined();
        if (withExample)
          [contentType, body] = [withExample[0], withExample[1].example];
      }
      const scheme = Object.keys(op.security[0] ?? {})[0];
      const token = scheme ? tokens[scheme] : undefined;
      if (scheme)
        expect(token, `${operationId}: no ${scheme} yet`).toBeDefined();
      const q = query.toString();
      const r = await api(method, `${url}${q ? `?${q}` : ""}`, {
        token,
        body,
        contentType,
      });
      const what = `${operationId} (${method} ${url}): ${JSON.stringify(r.body).slice(0, 500)}`;
      // in tests the workers do not run: the liveness check says so
      if (operationId === "getHealth") expect(r.status, what).toBe(503);
      else expect(r.status >= 200 && r.status < 300, what).toBe(true);

      // what later examples need
      if (operationId === "createHostToken")
        [made.tokenId, tokens.hostToken] = [r.body.id, r.body.token];
      if (operationId === "createApiKey")
        [made.keyId, tokens.tenantApiKey] = [r.body.id, r.body.key];
      if (operationId === "putVm") {
        // the VMs the evacuation and removal examples name
        for (const vmId of ["acme-web-2", "acme-web-3"]) {
          const v = await api("PUT", `/api/v1/admin/vms/${vmId}`, {
            token: tokens.operatorToken,
            body: {
              projectId: "acme-web",
              name: vmId,
              zone: "eu-central-1a",
              hostId: "host-a1",
              placedAt: "2026-02-01T08:00:00Z",
            },
          });
          expect(v.status).toBe(200);
        }
      }
      if (operationId === "ingestEvents") expect(r.body.accepted, what).toBe(2);
      if (operationId === "listIncidents") {
        // two pages against vmPages 2: the policy scheduled an evacuation
        expect(r.body.data[0].status, what).toBe("evacuating");
        made.incidentId = r.body.data[0].id;
      }
      if (operationId === "evacuateVm") made.evacuationId = r.body.evacuationId;
      if (operationId === "createFeedToken")
        [made.feedTokenId, tokens.feedToken] = [r.body.id, r.body.token];
      if (operationId === "createWebhook") made.id = r.body.id;
      if (operationId === "createChannel") made.channelId = r.body.id;
      if (operationId === "listWebhookDeliveries")
        made.deliveryId = r.body.data[0].id;
    }
  });
});
