import { z } from "zod";
import {
  getLogEntryForTenant,
  listLogEntries,
  LogEntryQuery,
} from "@/server/incidents/log-entries";
import { listTenantProjectsAndVms } from "@/server/vms/memory-health";
import { router, tenantProcedure } from "../init";

export const logEntryRouter = router({
  list: tenantProcedure
    .input(LogEntryQuery)
    .query(({ ctx, input }) => listLogEntries(ctx.db, ctx.tenantId, input)),
  byId: tenantProcedure
    .input(z.object({ insertId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) =>
      getLogEntryForTenant(ctx.db, ctx.tenantId, input.insertId),
    ),
  filters: tenantProcedure.query(({ ctx }) =>
    listTenantProjectsAndVms(ctx.db, ctx.tenantId),
  ),
});
