import { z } from "zod";
import {
  getOutboxEmail,
  listOutboxEmails,
  OutboxQuery,
} from "@/server/outbox/outbox";
import { router, tenantProcedure } from "../init";

export const outboxRouter = router({
  list: tenantProcedure.input(OutboxQuery).query(({ ctx, input }) =>
    listOutboxEmails(ctx, {
      ...input,
      scope: {
        tenantId: ctx.tenantId,
        email: ctx.session.email,
        role: ctx.role,
      },
    }),
  ),
  byId: tenantProcedure
    .input(z.object({ id: z.string().min(1).max(64) }))
    .query(({ ctx, input }) =>
      getOutboxEmail(ctx, {
        id: input.id,
        scope: {
          tenantId: ctx.tenantId,
          email: ctx.session.email,
          role: ctx.role,
        },
      }),
    ),
});
