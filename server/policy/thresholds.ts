import { z } from "zod";
import type { Db } from "@/db/client";
import { audit } from "@/server/audit";
import type { ServiceContext } from "@/server/context";
import { ValidationError } from "@/server/errors";
import { getSetting, putSetting } from "@/server/app-settings";

export const Policy = z.strictObject({
  windowSeconds: z
    .number()
    .int()
    .min(60)
    .max(90 * 86400),
  vmPages: z.number().int().min(1).max(1_000_000),
  evacuateOnGuestKernel: z.boolean(),
  hostDegradedPages: z.number().int().min(1).max(1_000_000),
  hostEvacuatePages: z.number().int().min(1).max(1_000_000),
  quietPeriodSeconds: z
    .number()
    .int()
    .min(60)
    .max(90 * 86400),
  coalesceSeconds: z.number().int().min(0).max(86400),
  // how long a tenant may put an evacuation off: its deadline is requestedAt + maxDeferSeconds
  maxDeferSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86400),
});
export type Policy = z.infer<typeof Policy>;

// PUT takes the whole document or any part of it; omitted fields keep their value.
export const PolicyInput = Policy.partial();

export const DEFAULT_POLICY: Policy = {
  windowSeconds: 86400,
  vmPages: 4,
  evacuateOnGuestKernel: true,
  hostDegradedPages: 8,
  hostEvacuatePages: 16,
  quietPeriodSeconds: 86400,
  coalesceSeconds: 300,
  maxDeferSeconds: 86400,
};

const KEY = "policy";

export async function getPolicy(db: Db): Promise<Policy> {
  const stored = await getSetting<Partial<Policy>>(db, KEY);
  return { ...DEFAULT_POLICY, ...(stored ?? {}) };
}

export async function putPolicy(
  ctx: ServiceContext,
  input: z.infer<typeof PolicyInput>,
): Promise<Policy> {
  const next = { ...(await getPolicy(ctx.db)), ...input };
  if (next.hostEvacuatePages < next.hostDegradedPages) {
    throw new ValidationError("hostEvacuatePages must be ≥ hostDegradedPages", [
      {
        path: "hostEvacuatePages",
        message: `must be at least hostDegradedPages (${next.hostDegradedPages})`,
      },
    ]);
  }
  await putSetting(ctx.db, KEY, next);
  await audit(ctx.db, {
    tenantId: null,
    actor: ctx.actor,
    action: "policy.update",
    details: input,
  });
  return next;
}
