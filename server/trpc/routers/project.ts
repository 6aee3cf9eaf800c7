import { asc, eq } from "drizzle-orm";
import { z } from "zod";
import { projects } from "@/db/schema";
import { OperatorId } from "@/server/core/validation";
import {
  getMaintenanceWindow,
  MaintenanceWindowInput,
  putMaintenanceWindow,
} from "@/server/policy/maintenance-window";
import { memberProcedure, router, tenantProcedure } from "../init";

// The tenant's projects and their maintenance windows.
export const projectRouter = router({
  list: tenantProcedure.query(async ({ ctx }) => {
    const rows = await ctx.db
      .select({
        id: projects.id,
        name: projects.name,
        maintenanceWindow: projects.maintenanceWindow,
      })
      .from(projects)
      .where(eq(projects.tenantId, ctx.tenantId))
      .orderBy(asc(projects.id))
      .limit(500);
    return { data: rows };
  }),
  maintenanceWindow: tenantProcedure
    .input(z.object({ projectId: OperatorId }))
    .query(({ ctx, input }) => getMaintenanceWindow(ctx, input)),
  setMaintenanceWindow: memberProcedure
    .input(z.object({ projectId: OperatorId, window: MaintenanceWindowInput }))
    .mutation(({ ctx, input }) => putMaintenanceWindow(ctx, input)),
});
