export type PlacementSpan = {
  hostId: string | null;
  // the VM incarnation that ran there (a deleted VM's placements keep theirs)
  incarnation: string;
  tenantId: string;
  projectId: string;
  startedAt: Date;
  endedAt: Date | null;
};

export type KnownVm = {
  id: string;
  incarnation: string;
  tenantId: string;
  projectId: string;
  name: string;
  zone: string;
};

export type Correlation =
  | {
      kind: "correlated";
      tenantId: string;
      projectId: string;
      incarnation: string;
    }
  | { kind: "uncorrelated"; reason: "unknown_vm" | "host_mismatch" };

// The placement that answers for time t: the running placement covering t; where none covers it
// (before the first placement, while stopped, after the last), the next running placement, or
// else the last one before. A stopped span (hostId null) runs the VM nowhere, so it never answers.
export function placementAt(
  placements: PlacementSpan[],
  t: number,
): PlacementSpan | null {
  let next: PlacementSpan | null = null;
  let last: PlacementSpan | null = null;
  for (const p of placements) {
    if (p.hostId === null) continue;
    const start = p.startedAt.getTime();
    if (start > t) {
      if (!next || start < next.startedAt.getTime()) next = p;
    } else if (p.endedAt === null || t < p.endedAt.getTime()) {
      return p;
    } else if (!last || start > last.startedAt.getTime()) {
      last = p;
    }
  }
  return next ?? last;
}

// spec.md "Correlation": an event belongs to the VM's project and tenant only if the reporting
// host ran the VM at the event's time (placementAt). A host can write into no VM it did not run:
// not by backdating an event before the VM's first placement, not by naming a VM the inventory
// learns later (late binding applies this same rule then). The placements are every placement of
// the VM id, a deleted VM's included: an event from the time a deleted VM with this id ran belongs
// to that VM, which the inventory no longer has (unknown_vm), never to the VM now using the id.
export function correlateEvent(input: {
  vm: KnownVm | null;
  placements: PlacementSpan[];
  hostId: string;
  time: Date;
}): Correlation {
  if (!input.vm) return { kind: "uncorrelated", reason: "unknown_vm" };
  const p = placementAt(input.placements, input.time.getTime());
  if (!p || p.hostId !== input.hostId)
    return { kind: "uncorrelated", reason: "host_mismatch" };
  if (p.incarnation !== input.vm.incarnation)
    return { kind: "uncorrelated", reason: "unknown_vm" };
  return {
    kind: "correlated",
    tenantId: p.tenantId,
    projectId: p.projectId,
    incarnation: p.incarnation,
  };
}
