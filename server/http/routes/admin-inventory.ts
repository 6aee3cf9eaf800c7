// Operator API: inventory (tenants, projects, hosts, VMs), credentials, members.
import { z } from "zod";
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from "@/server/inventory/api-keys";
import {
  createHostToken,
  listHostTokens,
  revokeHostToken,
} from "@/server/inventory/host-tokens";
import { HostInput, upsertHost } from "@/server/inventory/hosts";
import { ProjectInput, upsertProject } from "@/server/inventory/projects";
import { TenantInput, upsertTenant } from "@/server/inventory/tenants";
import { VmInput } from "@/server/inventory/vms";
import { addMember, MemberInput } from "@/server/tenants/members";
import { deleteVm, upsertVm } from "@/server/vm-lifecycle";
import { OperatorId } from "@/server/core/validation";
import { defineRoute } from "../router";
import {
  ApiKeyListOut,
  ErrorBody,
  HostOut,
  HostTokenListOut,
  KeyOut,
  MemberOut,
  ProjectOut,
  SecretOut,
  TenantOut,
  VmAdminOut,
} from "../schemas";

const op = ["operator"] as ["operator"];
const err = (d: string) => ({ description: d, schema: ErrorBody });

export const adminInventoryRoutes = [
  defineRoute({
    method: "PUT",
    path: "/api/v1/admin/tenants/{tenantId}",
    operationId: "putTenant",
    auth: op,
    tag: "inventory",
    summary: "Create or update a tenant",
    params: z.object({ tenantId: OperatorId }),
    body: TenantInput,
    responses: { 200: { description: "The stored tenant", schema: TenantOut } },
    handler: async ({ ctx, params, body }) => ({
      status: 200,
      body: await upsertTenant(ctx, { id: params.tenantId, ...body }),
    }),
  }),
  defineRoute({
    method: "PUT",
    path: "/api/v1/admin/projects/{projectId}",
    operationId: "putProject",
    auth: op,
    tag: "inventory",
    summary: "Create or update a project",
    params: z.object({ projectId: OperatorId }),
    body: ProjectInput,
    responses: {
      200: { description: "The stored project", schema: ProjectOut },
      409: err("Project of another tenant"),
    },
    handler: async ({ ctx, params, body }) => ({
      status: 200,
      body: await upsertProject(ctx, { id: params.projectId, ...body }),
    }),
  }),
  defineRoute({
    method: "PUT",
    path: "/api/v1/admin/hosts/{hostId}",
    operationId: "putHost",
    auth: op,
    tag: "inventory",
    summary: "Create or update a host",
    params: z.object({ hostId: OperatorId }),
    body: HostInput,
    responses: { 200: { description: "The stored host", schema: HostOut } },
    handler: async ({ ctx, params, body }) => ({
      status: 200,
      body: await upsertHost(ctx, { id: params.hostId, ...body }),
    }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/admin/hosts/{hostId}/tokens",
    operationId: "createHostToken",
    auth: op,
    tag: "credentials",
    summary: "Make a host token (shown once)",
    params: z.object({ hostId: OperatorId }),
    responses: {
      201: { description: "The new token", schema: SecretOut },
      404: err("Unknown host"),
    },
    handler: async ({ ctx, params }) => ({
      status: 201,
      body: await createHostToken(ctx, { hostId: params.hostId }),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/admin/hosts/{hostId}/tokens",
    operationId: "listHostTokens",
    auth: op,
    tag: "credentials",
    summary: "List a host's active tokens",
    params: z.object({ hostId: OperatorId }),
    responses: {
      200: {
        description: "Tokens (never the secret)",
        schema: HostTokenListOut,
      },
      404: err("Unknown host"),
    },
    handler: async ({ ctx, params }) => ({
      status: 200,
      body: await listHostTokens(ctx, { hostId: params.hostId }),
    }),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/v1/admin/hosts/{hostId}/tokens/{tokenId}",
    operationId: "revokeHostToken",
    auth: op,
    tag: "credentials",
    summary: "Revoke a host token",
    params: z.object({ hostId: OperatorId, tokenId: z.string().max(64) }),
    responses: { 204: { description: "Revoked" }, 404: err("Unknown token") },
    handler: async ({ ctx, params }) => {
      await revokeHostToken(ctx, params);
      return new Response(null, { status: 204 });
    },
  }),
  defineRoute({
    method: "PUT",
    path: "/api/v1/admin/vms/{vmId}",
    operationId: "putVm",
    auth: op,
    tag: "inventory",
    summary:
      "Create, update or move a VM (a new hostId is a move at placedAt; null = stopped)",
    params: z.object({ vmId: OperatorId }),
    body: VmInput,
    responses: {
      200: { description: "The stored VM", schema: VmAdminOut },
      409: err("Another project for an existing VM"),
    },
    handler: async ({ ctx, params, body }) => ({
      status: 200,
      body: await upsertVm(ctx, { id: params.vmId, ...body }),
    }),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/v1/admin/vms/{vmId}",
    operationId: "deleteVm",
    auth: op,
    tag: "inventory",
    summary: "Remove a VM (its history stays)",
    params: z.object({ vmId: OperatorId }),
    responses: { 204: { description: "Removed" }, 404: err("Unknown VM") },
    handler: async ({ ctx, params }) => {
      await deleteVm(ctx, { id: params.vmId });
      return new Response(null, { status: 204 });
    },
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/admin/tenants/{tenantId}/api-keys",
    operationId: "createApiKey",
    auth: op,
    tag: "credentials",
    summary: "Make a tenant API key (shown once)",
    params: z.object({ tenantId: OperatorId }),
    responses: {
      201: { description: "The new key", schema: KeyOut },
      404: err("Unknown tenant"),
    },
    handler: async ({ ctx, params }) => ({
      status: 201,
      body: await createApiKey(ctx, { tenantId: params.tenantId }),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/admin/tenants/{tenantId}/api-keys",
    operationId: "listApiKeys",
    auth: op,
    tag: "credentials",
    summary: "List a tenant's active API keys",
    params: z.object({ tenantId: OperatorId }),
    responses: {
      200: { description: "Keys (never the secret)", schema: ApiKeyListOut },
      404: err("Unknown tenant"),
    },
    handler: async ({ ctx, params }) => ({
      status: 200,
      body: await listApiKeys(ctx, { tenantId: params.tenantId }),
    }),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/v1/admin/tenants/{tenantId}/api-keys/{keyId}",
    operationId: "revokeApiKey",
    auth: op,
    tag: "credentials",
    summary: "Revoke a tenant API key",
    params: z.object({ tenantId: OperatorId, keyId: z.string().max(64) }),
    responses: { 204: { description: "Revoked" }, 404: err("Unknown key") },
    handler: async ({ ctx, params }) => {
      await revokeApiKey(ctx, params);
      return new Response(null, { status: 204 });
    },
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/admin/tenants/{tenantId}/members",
    operationId: "addMember",
    auth: op,
    tag: "inventory",
    summary:
      "Add (or change the role of) a tenant member; they get a sign-in email",
    params: z.object({ tenantId: OperatorId }),
    body: MemberInput,
    responses: {
      201: { description: "The membership", schema: MemberOut },
      404: err("Unknown tenant"),
    },
    handler: async ({ ctx, params, body }) => ({
      status: 201,
      body: await addMember(ctx, { tenantId: params.tenantId, ...body }),
    }),
  }),
];
