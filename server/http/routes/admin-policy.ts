// Operator API: the policy document and the control-plane callback.
import {
  CallbackInput,
  putCallback,
} from "@/server/policy/control-plane-callback";
import { getPolicy, PolicyInput, putPolicy } from "@/server/policy/thresholds";
import { defineRoute } from "../router";
import { CallbackOut, PolicyOut } from "../schemas";

const op = ["operator"] as ["operator"];

export const adminPolicyRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/v1/admin/policy",
    operationId: "getPolicy",
    auth: op,
    tag: "policy",
    summary: "The health policy",
    responses: { 200: { description: "Policy", schema: PolicyOut } },
    handler: async ({ db }) => ({ status: 200, body: await getPolicy(db) }),
  }),
  defineRoute({
    method: "PUT",
    path: "/api/v1/admin/policy",
    operationId: "putPolicy",
    auth: op,
    tag: "policy",
    summary: "Set the health policy (omitted fields keep their value)",
    body: PolicyInput,
    responses: { 200: { description: "Policy", schema: PolicyOut } },
    handler: async ({ ctx, body }) => ({
      status: 200,
      body: await putPolicy(ctx, body),
    }),
  }),
  defineRoute({
    method: "PUT",
    path: "/api/v1/admin/callback",
    operationId: "putCallback",
    auth: op,
    tag: "policy",
    summary:
      "Where evacuation requests go; the secret is answered when first made and on rotateSecret",
    body: CallbackInput,
    responses: { 200: { description: "Callback", schema: CallbackOut } },
    handler: async ({ ctx, body }) => ({
      status: 200,
      body: await putCallback(ctx, body),
    }),
  }),
];
