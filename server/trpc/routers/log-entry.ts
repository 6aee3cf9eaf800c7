import { z } from "zod";
import {
  countLogEntriesOverTime,
  getLogEntry,
  listLogEntries,
  LogEntryHistogramInput,
  LogEntryQuery,
} from "@/server/incidents/log-entries";
import { listTenantProjectsAndVms } from "@/server/vms/memory-health";
import { router, tenantProcedure } from "../init";

export const logEntryRouter = router({
  list: tenantProcedure
    .input(LogEntryQuery)
    .query(({ ctx, input }) => listLogEntries(ctx, input)),
  histogram: tenantProcedure
    .input(LogEntryHistogramInput)
    .query(({ ctx, input }) => countLogEntriesOverTime(ctx, input)),
  byId: tenantProcedure
    .input(z.object({ insertId: z.string().min(1).max(64) }))
    .query(({ ctx, input }) => getLogEntry(ctx, input)),
  filters: tenantProcedure.query(({ ctx }) => listTenantProjectsAndVms(ctx)),
});
