import { z } from "zod";
import { isOperatorEmail, pickTenant, setActiveTenant } from "@/server/auth";
import { OperatorId } from "@/server/http/conventions";
import { listMembershipsOfEmail } from "@/server/tenants/members";
import { authedProcedure, router } from "../init";

// Which tenants the signed-in person belongs to, and which one the console shows.
export const tenantRouter = router({
  mine: authedProcedure.query(async ({ ctx }) => {
    const memberships = await listMembershipsOfEmail(ctx.db, ctx.session.email);
    return {
      email: ctx.session.email,
      memberships,
      active: pickTenant(memberships, ctx.session.activeTenantId),
      isOperator: await isOperatorEmail(ctx.db, ctx.session.email),
    };
  }),
  switch: authedProcedure
    .input(z.object({ tenantId: OperatorId }))
    .mutation(({ ctx, input }) => setActiveTenant(ctx.db, ctx.session, input.tenantId)),
});
