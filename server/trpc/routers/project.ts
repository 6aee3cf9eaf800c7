import { z } from "zod";
import { OperatorId } from "@/server/core/validation";
import { listProjects } from "@/server/inventory/projects";
import {
  getMaintenanceWindow,
  MaintenanceWindowInput,
  putMaintenanceWindow,
} from "@/server/policy/maintenance-window";
import { memberProcedure, router, tenantProcedure } from "../init";

// The tenant's projects and their maintenance windows.
export const projectRouter = router({
  list: tenantProcedure.query(({ ctx }) => listProjects(ctx)),
  maintenanceWindow: tenantProcedure
    .input(z.object({ projectId: OperatorId }))
    .query(({ ctx, input }) => getMaintenanceWindow(ctx, input)),
  setMaintenanceWindow: memberProcedure
    .input(z.object({ projectId: OperatorId, window: MaintenanceWindowInput }))
    .mutation(({ ctx, input }) => putMaintenanceWindow(ctx, input)),
});
