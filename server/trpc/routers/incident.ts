import { z } from "zod";
import { getIncidentDetail } from "@/server/incidents/incident-detail";
import { IncidentQuery, listIncidents } from "@/server/incidents/incidents";
import { tenantStamp, typicalRestartSeconds } from "@/server/incidents/live";
import { getOverview } from "@/server/incidents/overview";
import {
  DeferInput,
  deferEvacuation,
  startEvacuationNow,
} from "@/server/policy/evacuations";
import { memberProcedure, router, tenantProcedure } from "../init";

export const IncidentById = z.object({ id: z.string().min(1).max(64) });

export const incidentRouter = router({
  list: tenantProcedure
    .input(IncidentQuery)
    .query(({ ctx, input }) => listIncidents(ctx, input)),
  // the console's incident page: the incident and how long a restart typically takes
  byId: tenantProcedure.input(IncidentById).query(async ({ ctx, input }) => ({
    ...(await getIncidentDetail(ctx, { incidentId: input.id })),
    typicalRestartSeconds: await typicalRestartSeconds(ctx),
  })),
  // polled by open console tabs: their data is refetched only when this changes
  stamp: tenantProcedure.query(async ({ ctx }) => ({
    stamp: await tenantStamp(ctx),
  })),
  overview: tenantProcedure.query(({ ctx }) => getOverview(ctx)),
  // the tenant's say in when its VM restarts (members and owners)
  startEvacuation: memberProcedure
    .input(IncidentById)
    .mutation(async ({ ctx, input }) => {
      await startEvacuationNow(ctx, { incidentId: input.id });
      return getIncidentDetail(ctx, { incidentId: input.id });
    }),
  deferEvacuation: memberProcedure
    .input(IncidentById.extend(DeferInput.shape))
    .mutation(async ({ ctx, input }) => {
      await deferEvacuation(ctx, { incidentId: input.id, until: input.until });
      return getIncidentDetail(ctx, { incidentId: input.id });
    }),
});
