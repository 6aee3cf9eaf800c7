import { inArray } from "drizzle-orm";
import type { z } from "zod";
import type { Db } from "@/db/client";
import type { ServiceContext } from "@/server/context";
import { hosts, vms } from "@/db/schema";
import { ValidationError } from "@/server/errors";
import { hostSummaries, latestEvacuations, vmSummaries } from "./host-health";
import type { EvacuationReason, HostState } from "./policy";
import { decideHostVm, decideVm, hostStateOf } from "./policy";
import type { Policy, PolicyInput } from "./thresholds";
import { getPolicy } from "./thresholds";

const MAX_LISTED = 200;

type Decision = {
  vmId: string;
  reason: EvacuationReason;
  distinctPages: number;
};

// What a policy would decide for the fleet now: each running VM without an active evacuation that
// it would evacuate (by its own pages or its host's), and every host's state.
async function decideFleet(db: Db, policy: Policy, at: Date) {
  const [vmSums, hostSums] = [
    await vmSummaries(db, null, at, policy),
    await hostSummaries(db, null, at, policy),
  ];
  const hostState = new Map<
    string,
    { state: HostState; distinctPages: number }
  >();
  for (const [hostId, s] of hostSums)
    hostState.set(hostId, {
      state: hostStateOf(s.distinctPages, policy),
      distinctPages: s.distinctPages,
    });
  const evacuateHosts = [...hostSums.keys()].filter(
    (h) => hostState.get(h)!.state === "evacuate",
  );
  const candidateIds = [...vmSums.keys()];
  const onEvacuateHosts = evacuateHosts.length
    ? await db
        .select({ id: vms.id })
        .from(vms)
        .where(inArray(vms.hostId, evacuateHosts))
    : [];
  const ids = [
    ...new Set([...candidateIds, ...onEvacuateHosts.map((v) => v.id)]),
  ].sort();
  const rows = ids.length
    ? await db
        .select({
          id: vms.id,
          hostId: vms.hostId,
          tenantId: vms.tenantId,
          projectId: vms.projectId,
        })
        .from(vms)
        .where(inArray(vms.id, ids))
    : [];
  const latest = await latestEvacuations(db, ids);
  const decisions = new Map<string, Decision>();
  for (const v of rows) {
    if (!v.hostId) continue;
    const l = latest.get(v.id);
    if (l && (l.status === "scheduled" || l.status === "in_progress")) continue;
    const cancelledAt = l?.status === "cancelled" ? l.cancelledAt : null;
    const s = vmSums.get(v.id);
    const d = s ? decideVm(s, policy, { cancelledAt }) : null;
    if (d?.evacuate) {
      decisions.set(v.id, {
        vmId: v.id,
        reason: d.reason,
        distinctPages: s!.distinctPages,
      });
      continue;
    }
    const host = hostSums.get(v.hostId);
    if (host && decideHostVm(host, policy, { cancelledAt })) {
      decisions.set(v.id, {
        vmId: v.id,
        reason: "host_evacuate",
        distinctPages: host.distinctPages,
      });
    }
  }
  return { decisions, hostState, vmOf: new Map(rows.map((r) => [r.id, r])) };
}

function countStates(
  hostState: Map<string, { state: HostState }>,
  totalHosts: number,
): Record<HostState, number> {
  const out: Record<HostState, number> = {
    healthy: 0,
    degraded: 0,
    evacuate: 0,
  };
  for (const h of hostState.values()) out[h.state] += 1;
  out.healthy += Math.max(0, totalHosts - hostState.size);
  return out;
}

export async function previewPolicy(
  ctx: ServiceContext,
  candidateInput: z.infer<typeof PolicyInput>,
) {
  const { db, now: at } = ctx;
  const current = await getPolicy(db);
  const candidate: Policy = { ...current, ...candidateInput };
  if (candidate.hostEvacuatePages < candidate.hostDegradedPages) {
    throw new ValidationError("hostEvacuatePages must be ≥ hostDegradedPages", [
      {
        path: "hostEvacuatePages",
        message: `must be at least hostDegradedPages (${candidate.hostDegradedPages})`,
      },
    ]);
  }
  const [now_, next] = [
    await decideFleet(db, current, at),
    await decideFleet(db, candidate, at),
  ];
  const totalHosts = await db.$count(hosts);
  const newly = [...next.decisions.values()].sort((a, b) =>
    a.vmId.localeCompare(b.vmId),
  );
  const hostIds = [
    ...new Set([...now_.hostState.keys(), ...next.hostState.keys()]),
  ].sort();
  const hostChanges = hostIds
    .map((hostId) => ({
      hostId,
      from: now_.hostState.get(hostId)?.state ?? "healthy",
      to: next.hostState.get(hostId)?.state ?? "healthy",
      distinctPages: next.hostState.get(hostId)?.distinctPages ?? 0,
    }))
    .filter((h) => h.from !== h.to);
  return {
    at: at.toISOString(),
    current,
    candidate,
    hosts: {
      current: countStates(now_.hostState, totalHosts),
      candidate: countStates(next.hostState, totalHosts),
    },
    hostChanges: {
      total: hostChanges.length,
      items: hostChanges.slice(0, MAX_LISTED),
    },
    wouldEvacuate: {
      total: newly.length,
      // alsoUnderCurrent: the current policy would evacuate it too at the VM's next evaluation
      items: newly.slice(0, MAX_LISTED).map((d) => {
        const vm = next.vmOf.get(d.vmId)!;
        return {
          ...d,
          tenantId: vm.tenantId,
          projectId: vm.projectId,
          hostId: vm.hostId,
          alsoUnderCurrent: now_.decisions.has(d.vmId),
        };
      }),
    },
    noLongerEvacuated: [...now_.decisions.keys()].filter(
      (id) => !next.decisions.has(id),
    ).length,
  };
}
export type PolicyPreview = Awaited<ReturnType<typeof previewPolicy>>;
