import { z } from "zod";
import { OperatorId } from "@/server/core/validation";
import { getVmMemoryHealth } from "@/server/vms/memory-health";
import { getVmForTenant, listVms, VmQuery } from "@/server/vms/vms";
import { router, tenantProcedure } from "../init";

export const vmRouter = router({
  list: tenantProcedure
    .input(VmQuery.extend({ projectId: OperatorId.optional() }))
    .query(({ ctx, input }) => listVms(ctx, input)),
  byId: tenantProcedure
    .input(z.object({ vmId: OperatorId }))
    .query(({ ctx, input }) => getVmForTenant(ctx, input)),
  memoryHealth: tenantProcedure
    .input(
      z.object({
        vmId: OperatorId,
        days: z.number().int().min(1).max(90).default(30),
      }),
    )
    .query(({ ctx, input }) => getVmMemoryHealth(ctx, input)),
});
