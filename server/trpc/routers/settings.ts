import { z } from "zod";
import { ROLES } from "@/db/constants";
import { listAuditLog } from "@/server/audit";
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from "@/server/inventory/inventory";
import { ListQuery } from "@/server/core/cursor";
import {
  changeMemberRole,
  inviteMember,
  listMembers,
  MemberInput,
  removeMember,
} from "@/server/tenants/members";
import { ownerProcedure, router, tenantProcedure } from "../init";

const Id = z.string().min(1).max(64);

// Members, API keys and the audit log. Everyone reads members and keys; only owners change them
// and read the audit log (spec.md, "Users").
export const settingsRouter = router({
  listMembers: tenantProcedure.query(({ ctx }) =>
    listMembers(ctx.db, ctx.tenantId),
  ),
  inviteMember: ownerProcedure
    .input(MemberInput)
    .mutation(({ ctx, input }) => inviteMember(ctx, ctx.tenantId, input)),
  changeMemberRole: ownerProcedure
    .input(z.object({ memberId: Id, role: z.enum(ROLES) }))
    .mutation(({ ctx, input }) =>
      changeMemberRole(ctx, ctx.tenantId, input.memberId, input.role),
    ),
  removeMember: ownerProcedure
    .input(z.object({ memberId: Id }))
    .mutation(({ ctx, input }) =>
      removeMember(ctx, ctx.tenantId, input.memberId),
    ),
  listApiKeys: tenantProcedure.query(({ ctx }) =>
    listApiKeys(ctx.db, ctx.tenantId),
  ),
  createApiKey: ownerProcedure
    .input(z.object({ name: z.string().trim().max(100).optional() }))
    .mutation(({ ctx, input }) =>
      createApiKey(ctx, ctx.tenantId, input.name || undefined),
    ),
  revokeApiKey: ownerProcedure
    .input(z.object({ keyId: Id }))
    .mutation(({ ctx, input }) => revokeApiKey(ctx, ctx.tenantId, input.keyId)),
  listAudit: ownerProcedure.input(ListQuery).query(({ ctx, input }) =>
    listAuditLog(ctx.db, {
      tenantId: ctx.tenantId,
      limit: input.limit,
      cursor: input.cursor,
    }),
  ),
});
