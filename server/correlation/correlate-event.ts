export type PlacementSpan = {
  hostId: string | null;
  tenantId: string;
  projectId: string;
  startedAt: Date;
  endedAt: Date | null;
};

export type KnownVm = { id: string; tenantId: string; projectId: string; name: string; zone: string };

export type Correlation =
  | { kind: "correlated"; tenantId: string; projectId: string }
  | { kind: "uncorrelated"; reason: "unknown_vm" | "host_mismatch" };

// spec.md "Correlation": the VM's placement at the event's time must be the reporting host, or no
// placement covers that time. A stopped span (hostId null) counts as placed nowhere.
export function correlateEvent(input: {
  vm: KnownVm | null;
  placements: PlacementSpan[];
  hostId: string;
  time: Date;
}): Correlation {
  if (!input.vm) return { kind: "uncorrelated", reason: "unknown_vm" };
  const t = input.time.getTime();
  const covering = input.placements.find(
    (p) => p.startedAt.getTime() <= t && (p.endedAt === null || t < p.endedAt.getTime()),
  );
  if (!covering) return { kind: "correlated", tenantId: input.vm.tenantId, projectId: input.vm.projectId };
  if (covering.hostId !== input.hostId) return { kind: "uncorrelated", reason: "host_mismatch" };
  return { kind: "correlated", tenantId: covering.tenantId, projectId: covering.projectId };
}
