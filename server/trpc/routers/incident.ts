import { z } from "zod";
import { now } from "@/server/clock";
import { getIncidentDetail } from "@/server/incidents/incident-detail";
import { IncidentQuery, listIncidents } from "@/server/incidents/incidents";
import { getOverview } from "@/server/incidents/overview";
import { router, tenantProcedure } from "../init";

export const IncidentById = z.object({ id: z.string().min(1).max(64) });

export const incidentRouter = router({
  list: tenantProcedure.input(IncidentQuery).query(({ ctx, input }) => listIncidents(ctx.db, ctx.tenantId, input)),
  byId: tenantProcedure.input(IncidentById).query(({ ctx, input }) => getIncidentDetail(ctx.db, ctx.tenantId, input.id)),
  overview: tenantProcedure.query(({ ctx }) => getOverview(ctx.db, ctx.tenantId, now())),
});
