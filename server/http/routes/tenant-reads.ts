// Tenant REST API (tenant API key): log entries, incidents, VMs — only the key's tenant's data.
import { z } from "zod";
import { tenantContext } from "@/server/context";
import { getIncidentDetail } from "@/server/incidents/incident-detail";
import { IncidentQuery, listIncidents } from "@/server/incidents/incidents";
import {
  EXPORT_MAX_ROWS,
  listLogEntries,
  LogEntryExportQuery,
  LogEntryQuery,
} from "@/server/incidents/log-entries";
import { getVmForTenant, listVms, VmQuery } from "@/server/vms/vms";
import { OperatorId } from "@/server/core/validation";
import { logEntryExportResponse } from "../log-export";
import { defineRoute } from "../router";
import {
  ErrorBody,
  IncidentDetailOut,
  IncidentOut,
  listOf,
  LogEntryOut,
  VmOut,
} from "../schemas";

const tenant = ["tenant"] as ["tenant"];
const err = (d: string) => ({ description: d, schema: ErrorBody });

export const tenantReadRoutes = [
  defineRoute({
    method: "GET",
    path: "/api/v1/log-entries",
    operationId: "listLogEntries",
    auth: tenant,
    tag: "tenant",
    summary: "Critical log entries, newest first",
    query: LogEntryQuery,
    responses: {
      200: {
        description: "Log entries, newest first",
        schema: listOf(LogEntryOut, "LogEntryList"),
      },
    },
    handler: async ({ ctx, query }) => ({
      status: 200,
      body: await listLogEntries(tenantContext(ctx), query),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/log-entries/export",
    operationId: "exportLogEntries",
    auth: tenant,
    tag: "tenant",
    summary: "Download the log entries of a view as CSV or NDJSON",
    description: `The entries that listLogEntries would page through for the same filters (\`q\`, \`mechanism\`, \`consumed\`, \`address\` included), newest first, streamed: at most ${EXPORT_MAX_ROWS.toLocaleString("en")} rows (the \`X-Export-Limit\` header); narrow the range for more. CSV (RFC 4180, a header row, the payload as JSON in the last column) or NDJSON (one log entry per line, as listLogEntries gives it).`,
    query: LogEntryExportQuery,
    responses: {
      200: {
        description: "The entries, as a file to save",
        contentType: ["application/x-ndjson", "text/csv"],
      },
    },
    handler: async ({ ctx, query }) =>
      logEntryExportResponse(tenantContext(ctx), query, ctx.now),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/incidents",
    operationId: "listIncidents",
    auth: tenant,
    tag: "tenant",
    summary: "Incidents, newest first",
    query: IncidentQuery,
    responses: {
      200: {
        description: "Incidents, newest first",
        schema: listOf(IncidentOut, "IncidentList"),
      },
    },
    handler: async ({ ctx, query }) => ({
      status: 200,
      body: await listIncidents(tenantContext(ctx), query),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/incidents/{incidentId}",
    operationId: "getIncident",
    auth: tenant,
    tag: "tenant",
    summary: "One incident with its timeline and filled playbook",
    params: z.object({ incidentId: z.string().max(64) }),
    responses: {
      200: { description: "The incident", schema: IncidentDetailOut },
      404: err("No such incident of this tenant"),
    },
    handler: async ({ ctx, params }) => ({
      status: 200,
      body: await getIncidentDetail(tenantContext(ctx), params),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/vms",
    operationId: "listVms",
    auth: tenant,
    tag: "tenant",
    summary: "VMs with their memory health, by id",
    query: VmQuery,
    responses: {
      200: { description: "VMs, by id", schema: listOf(VmOut, "VmList") },
    },
    handler: async ({ ctx, query }) => ({
      status: 200,
      body: await listVms(tenantContext(ctx), query),
    }),
  }),
  defineRoute({
    method: "GET",
    path: "/api/v1/vms/{vmId}",
    operationId: "getVm",
    auth: tenant,
    tag: "tenant",
    summary: "One VM with its memory health",
    params: z.object({ vmId: OperatorId }),
    responses: {
      200: { description: "The VM", schema: VmOut },
      404: err("No such VM of this tenant"),
    },
    handler: async ({ ctx, params }) => ({
      status: 200,
      body: await getVmForTenant(tenantContext(ctx), params),
    }),
  }),
];
