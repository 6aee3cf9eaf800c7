import type { Policy } from "./thresholds";

// The health policy as pure functions. The database computes the same summaries set-based
// (server/policy/host-health.ts); tests/integration/policy-parity.test.ts checks the two agree.
//
// Window: an event counts when eventTime >= at − windowSeconds (inclusive start). There is no
// upper edge: ingestion accepts events up to 5 minutes ahead of its clock, and they count.

export type PolicyEvent = {
  id: string;
  vmId: string;
  pageKey: string | null;
  eventTime: Date;
  receivedAt: Date;
  guestKernel: boolean;
};

export type HostState = "healthy" | "degraded" | "evacuate";
export const HOST_STATES = [
  "healthy",
  "degraded",
  "evacuate",
] as const satisfies readonly HostState[];

export type EvacuationReason =
  "guest_kernel" | "distinct_pages" | "host_evacuate" | "operator";

// Evidence of a VM or host: distinct pages, and the last moment something new was learnt (a
// page first received, or a guest-kernel consumption received), which a cancellation is weighed against.
export type VmSummary = {
  distinctPages: number;
  guestKernel: boolean;
  lastNewEvidenceAt: Date | null;
};
export type HostSummary = {
  distinctPages: number;
  affectedVmIds: string[];
  lastNewEvidenceAt: Date | null;
};

export function windowStartOf(
  at: Date,
  policy: Pick<Policy, "windowSeconds">,
): Date {
  return new Date(at.getTime() - policy.windowSeconds * 1000);
}

// An event without an address cannot be matched to a page: it is a page of its own. Same key as
// record-events.ts pageKeyOf and the SQL coalesce(page_key, 'unlocated:' || id).
export function pageIdOf(e: Pick<PolicyEvent, "id" | "pageKey">): string {
  return e.pageKey ?? `unlocated:${e.id}`;
}

function maxDate(a: Date | null, b: Date | null): Date | null {
  if (!a) return b;
  if (!b) return a;
  return b.getTime() > a.getTime() ? b : a;
}

function inWindow(
  e: PolicyEvent,
  since: Date,
  countFrom: Date | null | undefined,
): boolean {
  if (e.eventTime.getTime() < since.getTime()) return false;
  return !countFrom || e.eventTime.getTime() >= countFrom.getTime();
}

// countFrom: when the VM last completed an evacuation. A restart on a healthy host gives it fresh
// memory, so pages poisoned before it no longer count against the VM.
export function summarizeVm(
  events: PolicyEvent[],
  at: Date,
  policy: Pick<Policy, "windowSeconds">,
  opts: { countFrom?: Date | null } = {},
): VmSummary {
  const since = windowStartOf(at, policy);
  const firstReceived = new Map<string, Date>();
  let guestKernel = false;
  let lastGuestKernel: Date | null = null;
  for (const e of events) {
    if (!inWindow(e, since, opts.countFrom)) continue;
    const id = pageIdOf(e);
    const prev = firstReceived.get(id);
    if (!prev || e.receivedAt.getTime() < prev.getTime())
      firstReceived.set(id, e.receivedAt);
    if (e.guestKernel) {
      guestKernel = true;
      lastGuestKernel = maxDate(lastGuestKernel, e.receivedAt);
    }
  }
  let lastNew: Date | null = lastGuestKernel;
  for (const d of firstReceived.values()) lastNew = maxDate(lastNew, d);
  return {
    distinctPages: firstReceived.size,
    guestKernel,
    lastNewEvidenceAt: lastNew,
  };
}

// A host's pages are distinct (vm, page) pairs: the same guest address in two VMs is two host pages.
export function summarizeHost(
  events: PolicyEvent[],
  at: Date,
  policy: Pick<Policy, "windowSeconds">,
): HostSummary {
  const since = windowStartOf(at, policy);
  const firstReceived = new Map<string, Date>();
  const vms = new Set<string>();
  for (const e of events) {
    if (!inWindow(e, since, null)) continue;
    const id = `${e.vmId}\u0000${pageIdOf(e)}`;
    const prev = firstReceived.get(id);
    if (!prev || e.receivedAt.getTime() < prev.getTime())
      firstReceived.set(id, e.receivedAt);
    vms.add(e.vmId);
  }
  let lastNew: Date | null = null;
  for (const d of firstReceived.values()) lastNew = maxDate(lastNew, d);
  return {
    distinctPages: firstReceived.size,
    affectedVmIds: [...vms].sort(),
    lastNewEvidenceAt: lastNew,
  };
}

export function hostStateOf(
  distinctPages: number,
  policy: Pick<Policy, "hostDegradedPages" | "hostEvacuatePages">,
): HostState {
  if (distinctPages >= policy.hostEvacuatePages) return "evacuate";
  if (distinctPages >= policy.hostDegradedPages) return "degraded";
  return "healthy";
}

export type VmDecision =
  | { evacuate: true; reason: "guest_kernel" | "distinct_pages" }
  | { evacuate: false; reason: null; suppressedByCancel: boolean };

// cancelledAt: when an operator cancelled the VM's latest evacuation. The policy then waits for
// new evidence (a page first seen, or a guest-kernel consumption, received after it) before it
// evacuates the VM again, so a cancel is not undone by the next repeat of a known page.
export function decideVm(
  s: VmSummary,
  policy: Pick<Policy, "vmPages" | "evacuateOnGuestKernel">,
  opts: { cancelledAt?: Date | null } = {},
): VmDecision {
  const reason =
    s.guestKernel && policy.evacuateOnGuestKernel
      ? "guest_kernel"
      : s.distinctPages >= policy.vmPages
        ? "distinct_pages"
        : null;
  if (!reason)
    return { evacuate: false, reason: null, suppressedByCancel: false };
  if (isSuppressedByCancel(s.lastNewEvidenceAt, opts.cancelledAt))
    return { evacuate: false, reason: null, suppressedByCancel: true };
  return { evacuate: true, reason };
}

// A host in `evacuate` evacuates each VM on it, unless that VM's latest evacuation was cancelled
// and the host has shown nothing new since.
export function decideHostVm(
  host: HostSummary,
  policy: Pick<Policy, "hostDegradedPages" | "hostEvacuatePages">,
  opts: { cancelledAt?: Date | null } = {},
): boolean {
  if (hostStateOf(host.distinctPages, policy) !== "evacuate") return false;
  return !isSuppressedByCancel(host.lastNewEvidenceAt, opts.cancelledAt);
}

export function isSuppressedByCancel(
  lastNewEvidenceAt: Date | null,
  cancelledAt: Date | null | undefined,
): boolean {
  if (!cancelledAt) return false;
  return (
    !lastNewEvidenceAt || lastNewEvidenceAt.getTime() <= cancelledAt.getTime()
  );
}

// How far a host is toward its next threshold (1 = at evacuate), for the console's "trending" list.
export function hostPressure(
  distinctPages: number,
  policy: Pick<Policy, "hostEvacuatePages">,
): number {
  return Math.min(1, distinctPages / policy.hostEvacuatePages);
}
