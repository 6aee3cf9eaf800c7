import { z } from "zod";
import {
  getOutboxEmail,
  listOutboxEmails,
  OutboxQuery,
} from "@/server/outbox/outbox";
import { router, tenantProcedure } from "../init";

export const outboxRouter = router({
  list: tenantProcedure
    .input(OutboxQuery)
    .query(({ ctx, input }) =>
      listOutboxEmails(
        ctx.db,
        { tenantId: ctx.tenantId, email: ctx.session.email, role: ctx.role },
        input,
      ),
    ),
  byId: tenantProcedure
    .input(z.object({ id: z.string().min(1).max(64) }))
    .query(({ ctx, input }) =>
      getOutboxEmail(
        ctx.db,
        { tenantId: ctx.tenantId, email: ctx.session.email, role: ctx.role },
        input.id,
      ),
    ),
});
