import { z } from "zod";
import { ROLES } from "@/db/constants";
import { listAuditLog } from "@/server/audit";
import {
  createApiKey,
  listApiKeys,
  revokeApiKey,
} from "@/server/inventory/api-keys";
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
  listMembers: tenantProcedure.query(({ ctx }) => listMembers(ctx)),
  inviteMember: ownerProcedure
    .input(MemberInput)
    .mutation(({ ctx, input }) => inviteMember(ctx, input)),
  changeMemberRole: ownerProcedure
    .input(z.object({ memberId: Id, role: z.enum(ROLES) }))
    .mutation(({ ctx, input }) => changeMemberRole(ctx, input)),
  removeMember: ownerProcedure
    .input(z.object({ memberId: Id }))
    .mutation(({ ctx, input }) => removeMember(ctx, input)),
  listApiKeys: tenantProcedure.query(({ ctx }) =>
    listApiKeys(ctx, { tenantId: ctx.tenantId }),
  ),
  createApiKey: ownerProcedure
    .input(z.object({ name: z.string().trim().max(100).optional() }))
    .mutation(({ ctx, input }) =>
      createApiKey(ctx, {
        tenantId: ctx.tenantId,
        name: input.name || undefined,
      }),
    ),
  revokeApiKey: ownerProcedure
    .input(z.object({ keyId: Id }))
    .mutation(({ ctx, input }) =>
      revokeApiKey(ctx, { tenantId: ctx.tenantId, keyId: input.keyId }),
    ),
  listAudit: ownerProcedure.input(ListQuery).query(({ ctx, input }) =>
    listAuditLog(ctx, {
      tenantId: ctx.tenantId,
      limit: input.limit,
      cursor: input.cursor,
    }),
  ),
});
