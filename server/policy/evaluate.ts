import type { Db } from "@/db/client";
import type { IncidentChange } from "@/server/incidents/incident-change";
import type { EvacuationRequest } from "./evacuations";
import {
  attachIncidentsToEvacuations,
  scheduleEvacuations,
} from "./evacuations";
import {
  hostPageCounts,
  hostSummaries,
  latestEvacuations,
  runningVmsOnHosts,
  vmPageCounts,
  vmSummaries,
} from "./host-health";
import { decideHostVm, decideVm, hostStateOf } from "./policy";
import type { HostSummary, VmSummary } from "./policy";
import type { Policy } from "./thresholds";

// After new errors (ingestion or late binding), inside their transaction: the VMs that changed and
// the hosts that reported them are measured against the policy; a VM past its threshold, and every
// running VM of a host in `evacuate`, gets an evacuation. A policy change applies from the next
// error of a VM or host; it does not evacuate retroactively (the preview shows what it would do).
//
// Only what could still lead to a decision is measured: a VM whose evacuation is already active
// needs no count, and a host needs one only while some VM running on it has none. In an error
// storm, once the VMs are being evacuated, a batch costs no aggregate over the window. The counts
// come from the page rollup (one row per page, however many errors it had), and the events are
// read only where an operator's cancel makes the time of the newest evidence matter.
export async function evaluatePolicyAfterIngest(
  tx: Db,
  input: {
    changes: IncidentChange[];
    hostIds: string[];
    at: Date;
    policy: Policy;
  },
): Promise<void> {
  const changes = input.changes.filter((c) => c.kind !== "resolved");
  if (!changes.length) return;
  const { at, policy } = input;
  const vmIds = [...new Set(changes.map((c) => c.vmId))].sort();
  const hostIds = [...new Set(input.hostIds)].sort();

  const running = await runningVmsOnHosts(tx, hostIds);
  const latest = await latestEvacuations(tx, [
    ...new Set([...vmIds, ...running.map((v) => v.id)]),
  ]);
  const cancelledAtOf = (vmId: string) => {
    const l = latest.get(vmId);
    return l?.status === "cancelled" ? l.cancelledAt : null;
  };
  const isActive = (vmId: string) => {
    const s = latest.get(vmId)?.status;
    return s === "scheduled" || s === "in_progress";
  };

  const openVms = vmIds.filter((v) => !isActive(v));
  const openHosts = hostIds.filter((h) =>
    running.some((v) => v.host_id === h && !isActive(v.id)),
  );
  // an evacuation decided before the VM had an incident (or by a transaction that could not see
  // it) is joined by the incident; run after `latest` was read so an evacuation seen there is
  // joined here. The page counts need nothing from it: all three are sent together (one round
  // trip to the embedded database's thread, in this order).
  const [, vmCounts, hostCounts] = await Promise.all([
    attachIncidentsToEvacuations(
      tx,
      changes.map((c) => c.incidentId),
      at,
      policy,
    ),
    vmPageCounts(tx, openVms, at, policy),
    hostPageCounts(tx, openHosts, at, policy),
  ]);
  // decideVm / decideHostVm read lastNewEvidenceAt only for a cancelled VM they would evacuate
  const countsOnly = (vmId: string): VmSummary | undefined => {
    const c = vmCounts.get(vmId);
    return c && { ...c, lastNewEvidenceAt: null };
  };
  const wouldEvacuate = (vmId: string) => {
    const s = countsOnly(vmId);
    return !!s && decideVm(s, policy).evacuate;
  };
  const vmSums = await vmSummaries(
    tx,
    openVms.filter((v) => cancelledAtOf(v) && wouldEvacuate(v)),
    at,
    policy,
  );
  const hostsToRead = openHosts.filter(
    (h) =>
      hostStateOf(hostCounts.get(h) ?? 0, policy) === "evacuate" &&
      running.some(
        (v) => v.host_id === h && !isActive(v.id) && cancelledAtOf(v.id),
      ),
  );
  const hostSums = await hostSummaries(tx, hostsToRead, at, policy);
  const hostSummaryOf = (h: string): HostSummary | undefined => {
    const n = hostCounts.get(h);
    if (!n) return undefined;
    return (
      hostSums.get(h) ?? {
        distinctPages: n,
        affectedVmIds: [],
        lastNewEvidenceAt: null,
      }
    );
  };

  const requests: EvacuationRequest[] = [];
  for (const vmId of openVms) {
    const s = vmSums.get(vmId) ?? countsOnly(vmId);
    if (!s) continue;
    const d = decideVm(s, policy, { cancelledAt: cancelledAtOf(vmId) });
    if (d.evacuate)
      requests.push({
        vmId,
        reason: d.reason,
        distinctPages: s.distinctPages,
        requestedBy: "policy",
      });
  }
  for (const v of running) {
    const host = hostSummaryOf(v.host_id);
    if (!host || isActive(v.id) || requests.some((r) => r.vmId === v.id))
      continue;
    if (decideHostVm(host, policy, { cancelledAt: cancelledAtOf(v.id) })) {
      requests.push({
        vmId: v.id,
        reason: "host_evacuate",
        distinctPages: host.distinctPages,
        requestedBy: "policy",
      });
    }
  }
  if (requests.length)
    await scheduleEvacuations(tx, requests, at, { skipLocked: true, policy });
}
