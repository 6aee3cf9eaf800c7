// Operator API: host health, the fleet, evacuations, policy preview and Prometheus metrics.
import { z } from "zod";
import { renderMetrics, wantsOpenMetrics } from "@/server/metrics";
import {
  cancelEvacuation,
  EvacuateInput,
  EvacuationId,
  EvacuationQuery,
  listEvacuations,
  requestEvacuation,
  startEvacuationNowByOperator,
} from "@/server/policy/evacuations";
import { collectFleetGauges } from "@/server/policy/fleet";
import {
  getHostHealth,
  HostListQuery,
  listHostHealth,
} from "@/server/policy/host-health";
import { PolicyInput } from "@/server/policy/thresholds";
import { previewPolicy } from "@/server/policy/preview";
import { OperatorId } from "@/server/core/validation";
import { defineRoute } from "../router";
import {
  ErrorBody,
  EvacuationOut,
  FleetHostOut,
  HostHealthOut,
  listOf,
  PolicyPreviewOut,
} from "../schemas";

const op = ["operator"] as ["operator"];
const err = (d: string) => ({ description: d, schema: ErrorBody });

export const adminHealthRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/v1/admin/hosts/{hostId}/health",
    operationId: "getHostHealth",
    auth: op,
    tag: "health",
    summary:
      "A host's health now: healthy, degraded or evacuate, by distinct pages within the policy window",
    params: z.object({ hostId: OperatorId }),
    responses: {
      200: { description: "Host health", schema: HostHealthOut },
      404: err("Unknown host"),
    },
    handler: async ({ ctx, params }) => ({
      status: 200,
      body: await getHostHealth(ctx, params),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/admin/hosts",
    operationId: "listHosts",
    auth: op,
    tag: "health",
    summary:
      "The fleet: every host with its state now, by id (filter with state)",
    query: HostListQuery,
    responses: {
      200: {
        description: "Hosts",
        schema: listOf(FleetHostOut, "FleetHostList"),
      },
    },
    handler: async ({ ctx, query }) => ({
      status: 200,
      body: await listHostHealth(ctx, query),
    }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/admin/vms/{vmId}/evacuate",
    operationId: "evacuateVm",
    auth: op,
    tag: "evacuations",
    summary:
      "Evacuate a VM by hand (a restart on a healthy host at scheduledFor, default in 15 minutes). Idempotent: a VM with an active evacuation answers that one's id",
    params: z.object({ vmId: OperatorId }),
    body: EvacuateInput,
    responses: {
      202: {
        description: "Scheduled (or already active)",
        schema: z.object({ evacuationId: z.string() }),
      },
      404: err("Unknown VM"),
      409: err("The VM is stopped"),
    },
    handler: async ({ ctx, params, body }) => {
      const r = await requestEvacuation(ctx, {
        vmId: params.vmId,
        ...body,
      });
      return { status: 202, body: { evacuationId: r.evacuationId } };
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/admin/evacuations",
    operationId: "listEvacuations",
    auth: op,
    tag: "evacuations",
    summary: "Evacuations, newest first",
    query: EvacuationQuery,
    responses: {
      200: {
        description: "Evacuations",
        schema: listOf(EvacuationOut, "EvacuationList"),
      },
    },
    handler: async ({ ctx, query }) => ({
      status: 200,
      body: await listEvacuations(ctx, query),
    }),
  }),
  defineRoute({
    method: "DELETE",
    path: "/api/v1/admin/evacuations/{evacuationId}",
    operationId: "cancelEvacuation",
    auth: op,
    tag: "evacuations",
    summary:
      "Cancel a scheduled or in-progress evacuation; its incident goes back to open",
    params: z.object({ evacuationId: EvacuationId }),
    responses: {
      200: { description: "The cancelled evacuation", schema: EvacuationOut },
      404: err("Unknown evacuation"),
      409: err("Already completed or cancelled"),
    },
    handler: async ({ ctx, params }) => ({
      status: 200,
      body: await cancelEvacuation(ctx, params),
    }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/admin/evacuations/{evacuationId}/start",
    operationId: "startEvacuation",
    auth: op,
    tag: "evacuations",
    summary:
      "Start a scheduled evacuation now, whatever time the tenant chose (the control plane hears vm.evacuation_rescheduled)",
    params: z.object({ evacuationId: EvacuationId }),
    responses: {
      200: { description: "The started evacuation", schema: EvacuationOut },
      404: err("Unknown evacuation"),
      409: err("No longer scheduled"),
    },
    handler: async ({ ctx, params }) => ({
      status: 200,
      body: await startEvacuationNowByOperator(ctx, params),
    }),
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/admin/policy/preview",
    operationId: "previewPolicy",
    auth: op,
    tag: "policy",
    summary:
      "What a policy change (any part of the policy) would do to the fleet now; nothing is changed",
    body: PolicyInput,
    responses: {
      200: {
        description:
          "Hosts per state now and under the candidate; VMs it would evacuate",
        schema: PolicyPreviewOut,
      },
    },
    handler: async ({ ctx, body }) => ({
      status: 200,
      body: await previewPolicy(ctx, body),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/admin/metrics",
    operationId: "getMetrics",
    auth: op,
    tag: "operator",
    summary:
      "Prometheus metrics: ingestion (events, rejections by reason incl. whole requests, transaction time), deliveries (attempt time, event-to-delivery latency by channel), queue depth, fleet health, the process",
    description:
      "Text format 0.0.4, or OpenMetrics 1.0.0 when Accept asks for application/openmetrics-text (as Prometheus does).",
    responses: {
      200: {
        description: "The metrics",
        contentType: [
          "text/plain; version=0.0.4",
          "application/openmetrics-text; version=1.0.0",
        ],
      },
    },
    handler: async ({ ctx, req }) => {
      const { contentType, body } = await renderMetrics(
        await collectFleetGauges(ctx),
        wantsOpenMetrics(req.headers.get("accept")),
      );
      return new Response(body, {
        status: 200,
        headers: { "content-type": contentType, "cache-control": "no-store" },
      });
    },
  }),
];
