import { z } from "zod";
import { OperatorId } from "@/server/core/validation";
import {
  getOutboxEmail,
  listOutboxEmails,
  OutboxQuery,
} from "@/server/outbox/outbox";
import {
  listUncorrelatedEvents,
  UncorrelatedQuery,
} from "@/server/ingest/uncorrelated";
import {
  cancelEvacuation,
  EvacuationId,
  EvacuationQuery,
  listEvacuations,
  requestEvacuation,
  startEvacuationNowByOperator,
} from "@/server/policy/evacuations";
import { getFleetOverview } from "@/server/policy/fleet";
import {
  getHostDetail,
  HostListQuery,
  listHostHealth,
} from "@/server/policy/host-health";
import { getPolicy, PolicyInput, putPolicy } from "@/server/policy/thresholds";
import { previewPolicy } from "@/server/policy/preview";
import { operatorProcedure, router } from "../init";

// The operator console: fleet health, hosts, the policy, evacuations and every email whole
// (operator sign-in only).
export const operatorRouter = router({
  overview: operatorProcedure.query(({ ctx }) => getFleetOverview(ctx)),
  hosts: operatorProcedure
    .input(
      HostListQuery.extend({ order: z.enum(["id", "pressure"]).default("id") }),
    )
    .query(({ ctx, input }) => listHostHealth(ctx, input)),
  host: operatorProcedure
    .input(z.object({ hostId: OperatorId }))
    .query(({ ctx, input }) => getHostDetail(ctx, input)),
  uncorrelated: operatorProcedure
    .input(UncorrelatedQuery)
    .query(({ ctx, input }) => listUncorrelatedEvents(ctx, input)),
  evacuations: operatorProcedure
    .input(EvacuationQuery)
    .query(({ ctx, input }) => listEvacuations(ctx, input)),
  evacuate: operatorProcedure
    .input(z.object({ vmId: OperatorId }))
    .mutation(({ ctx, input }) => requestEvacuation(ctx, input)),
  cancelEvacuation: operatorProcedure
    .input(z.object({ evacuationId: EvacuationId }))
    .mutation(({ ctx, input }) => cancelEvacuation(ctx, input)),
  // at once, whatever time the tenant chose
  startEvacuation: operatorProcedure
    .input(z.object({ evacuationId: EvacuationId }))
    .mutation(({ ctx, input }) => startEvacuationNowByOperator(ctx, input)),
  policy: operatorProcedure.query(({ ctx }) => getPolicy(ctx.db)),
  previewPolicy: operatorProcedure
    .input(PolicyInput)
    .query(({ ctx, input }) => previewPolicy(ctx, input)),
  updatePolicy: operatorProcedure
    .input(PolicyInput)
    .mutation(({ ctx, input }) => putPolicy(ctx, input)),
  outbox: operatorProcedure
    .input(OutboxQuery)
    .query(({ ctx, input }) =>
      listOutboxEmails(ctx, { ...input, scope: { operator: true } }),
    ),
  outboxEmail: operatorProcedure
    .input(z.object({ id: z.string().min(1).max(64) }))
    .query(({ ctx, input }) =>
      getOutboxEmail(ctx, { id: input.id, scope: { operator: true } }),
    ),
});
