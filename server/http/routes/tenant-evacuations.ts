// Tenant REST API (tenant API key): when an evacuation happens — start now, defer, and the
// projects' maintenance windows. A tenant API key acts with member rights.
import { z } from "zod";
import { tenantContext } from "@/server/context";
import { getIncidentDetail } from "@/server/incidents/incident-detail";
import {
  getMaintenanceWindow,
  MaintenanceWindow,
  MaintenanceWindowInput,
  putMaintenanceWindow,
} from "@/server/policy/maintenance-window";
import {
  DeferInput,
  deferEvacuation,
  startEvacuationNow,
} from "@/server/policy/evacuations";
import { OperatorId } from "@/server/core/validation";
import { defineRoute } from "../router";
import { ErrorBody, IncidentDetailOut } from "../schemas";

const tenant = ["tenant"] as ["tenant"];
const err = (d: string) => ({ description: d, schema: ErrorBody });

const IncidentParams = z.object({ incidentId: z.string().max(64) });
const ProjectParams = z.object({ projectId: OperatorId });
const incidentAnswer = {
  200: {
    description: "The incident, with its timeline and filled playbook",
    schema: IncidentDetailOut,
  },
};
const WindowOut = MaintenanceWindow.meta({
  id: "MaintenanceWindow",
  description:
    "When the project's VMs may be restarted, weekly, in the window's time zone",
}).nullable();
const notScheduled = {
  404: err("No such incident of this tenant"),
  409: err("The incident's evacuation is not (or no longer) scheduled"),
};

export const tenantEvacuationRoutes = [
  defineRoute({
    method: "POST",
    path: "/api/v1/incidents/{incidentId}/evacuation/start",
    operationId: "startEvacuationNow",
    auth: tenant,
    tag: "tenant",
    summary:
      "Approve the scheduled restart now: scheduledFor becomes now and the restart starts",
    params: IncidentParams,
    responses: { ...incidentAnswer, ...notScheduled },
    handler: async ({ ctx, params }) => {
      const tctx = tenantContext(ctx);
      await startEvacuationNow(tctx, params);
      return {
        status: 200,
        body: await getIncidentDetail(tctx, params),
      };
    },
  }),
  defineRoute({
    method: "POST",
    path: "/api/v1/incidents/{incidentId}/evacuation/defer",
    operationId: "deferEvacuation",
    auth: tenant,
    tag: "tenant",
    summary:
      "Move the scheduled restart later: until is after scheduledFor and at most the evacuation's deadline",
    params: IncidentParams,
    body: DeferInput,
    responses: { ...incidentAnswer, ...notScheduled },
    handler: async ({ ctx, params, body }) => {
      const tctx = tenantContext(ctx);
      await deferEvacuation(tctx, { ...body, incidentId: params.incidentId });
      return {
        status: 200,
        body: await getIncidentDetail(tctx, params),
      };
    },
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/projects/{projectId}/maintenance-window",
    operationId: "getMaintenanceWindow",
    auth: tenant,
    tag: "tenant",
    summary: "The project's maintenance window (null: none)",
    params: ProjectParams,
    responses: {
      200: { description: "The window or null", schema: WindowOut },
      404: err("No such project of this tenant"),
    },
    handler: async ({ ctx, params }) => ({
      status: 200,
      body: await getMaintenanceWindow(tenantContext(ctx), params),
    }),
  }),
  defineRoute({
    method: "PUT",
    path: "/api/v1/projects/{projectId}/maintenance-window",
    operationId: "putMaintenanceWindow",
    auth: tenant,
    tag: "tenant",
    summary:
      "Set (or, with null, clear) the project's maintenance window: a new evacuation of its VMs is scheduled at the window's next opening if that comes before the evacuation's deadline",
    params: ProjectParams,
    body: MaintenanceWindowInput,
    responses: {
      200: { description: "The stored window or null", schema: WindowOut },
      404: err("No such project of this tenant"),
    },
    handler: async ({ ctx, params, body }) => ({
      status: 200,
      body: await putMaintenanceWindow(tenantContext(ctx), {
        projectId: params.projectId,
        window: body,
      }),
    }),
  }),
];
