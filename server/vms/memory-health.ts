import { asc, eq } from "drizzle-orm";
import type { TenantContext } from "@/server/context";
import { projects, vms } from "@/db/schema";
import { getPolicy } from "@/server/policy/thresholds";
import { getVmForTenant, vmPagesOverTime } from "./vms";

// A VM's page in the console: its memory health now and distinct poisoned pages per day.
export async function getVmMemoryHealth(
  ctx: TenantContext,
  input: { vmId: string; days: number },
) {
  const { db, tenantId, now: at } = ctx;
  const { vmId, days } = input;
  const vm = await getVmForTenant(ctx, { vmId });
  const dayMs = 86400_000;
  const today = Math.floor(at.getTime() / dayMs) * dayMs;
  const since = new Date(today - (days - 1) * dayMs);
  const [rows, policy] = [
    await vmPagesOverTime(db, tenantId, vmId, since),
    await getPolicy(db),
  ];
  const byDay = new Map(rows.map((r) => [r.day, r]));
  const series = Array.from({ length: days }, (_, i) => {
    const day = new Date(since.getTime() + i * dayMs)
      .toISOString()
      .slice(0, 10);
    const r = byDay.get(day);
    return {
      day,
      pages: Number(r?.pages ?? 0),
      errors: Number(r?.errors ?? 0),
    };
  });
  return {
    vm,
    series,
    threshold: policy.vmPages,
    windowSeconds: policy.windowSeconds,
  };
}

// Choices for the console's filters: the tenant's projects and VMs.
export async function listTenantProjectsAndVms(ctx: TenantContext) {
  const { db, tenantId } = ctx;
  const [p, v] = [
    await db
      .select({ id: projects.id, name: projects.name })
      .from(projects)
      .where(eq(projects.tenantId, tenantId))
      .orderBy(asc(projects.id)),
    await db
      .select({ id: vms.id, name: vms.name, projectId: vms.projectId })
      .from(vms)
      .where(eq(vms.tenantId, tenantId))
      .orderBy(asc(vms.id))
      .limit(2000),
  ];
  return { projects: p, vms: v };
}
