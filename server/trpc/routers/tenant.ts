import { z } from "zod";
import { getMyTenants, setActiveTenant } from "@/server/auth";
import { OperatorId } from "@/server/core/validation";
import { authedProcedure, router } from "../init";

// Which tenants the signed-in person belongs to, and which one the console shows.
export const tenantRouter = router({
  mine: authedProcedure.query(({ ctx }) => getMyTenants(ctx.db, ctx.session)),
  switch: authedProcedure
    .input(z.object({ tenantId: OperatorId }))
    .mutation(({ ctx, input }) =>
      setActiveTenant(ctx.db, ctx.session, input.tenantId),
    ),
});
