import { describe, expect, it } from "vitest";
import type { PlacementSpan } from "@/server/correlation/correlate-event";
import {
  correlateEvent,
  placementAt,
} from "@/server/correlation/correlate-event";

const T = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m));
const span = (
  hostId: string | null,
  from: number,
  until: number | null,
  incarnation = "vmi_1",
): PlacementSpan => ({
  hostId,
  incarnation,
  tenantId: "t-1",
  projectId: "p-1",
  startedAt: T(from),
  endedAt: until === null ? null : T(until),
});
const vm = {
  id: "vm-1",
  incarnation: "vmi_1",
  tenantId: "t-1",
  projectId: "p-1",
  name: "web-1",
  zone: "z",
};

// h1 [10, 20), stopped [20, 30), h2 [30, 40), h1 [40, 50), stopped from 50
const history = [
  span("h1", 10, 20),
  span(null, 20, 30),
  span("h2", 30, 40),
  span("h1", 40, 50),
  span(null, 50, null),
];

describe("placementAt: the placement that answers for a time", () => {
  it.each([
    [0, "h1", "before the first placement: the next one"],
    [10, "h1", "the start is inclusive"],
    [19, "h1", "covered"],
    [20, "h2", "the end is exclusive; stopped: the next running placement"],
    [
      29,
      "h2",
      "stopped: the next running placement, though the last is nearer",
    ],
    [30, "h2", "covered"],
    [40, "h1", "covered by the later placement at the boundary"],
    [50, "h1", "stopped for good: the last running placement"],
    [5000, "h1", "long after: the last running placement"],
  ])("at minute %i: %s (%s)", (m, host) => {
    expect(placementAt(history, T(m).getTime())?.hostId).toBe(host);
  });

  it("answers nothing for a VM that never ran", () => {
    expect(placementAt([], T(0).getTime())).toBeNull();
    expect(placementAt([span(null, 0, null)], T(5).getTime())).toBeNull();
  });

  it("does not depend on the order of the history", () => {
    for (const m of [0, 15, 25, 35, 45, 55]) {
      expect(placementAt([...history].reverse(), T(m).getTime())).toEqual(
        placementAt(history, T(m).getTime()),
      );
    }
  });
});

describe("correlateEvent", () => {
  it("correlates only the host that answers; a VM the inventory does not know is unknown_vm", () => {
    expect(
      correlateEvent({ vm, placements: history, hostId: "h1", time: T(0) }),
    ).toEqual({
      kind: "correlated",
      tenantId: "t-1",
      projectId: "p-1",
      incarnation: "vmi_1",
    });
    expect(
      correlateEvent({ vm, placements: history, hostId: "h2", time: T(0) }),
    ).toEqual({ kind: "uncorrelated", reason: "host_mismatch" });
    expect(
      correlateEvent({ vm, placements: history, hostId: "h1", time: T(25) }),
    ).toEqual({ kind: "uncorrelated", reason: "host_mismatch" });
    expect(
      correlateEvent({
        vm,
        placements: [span(null, 0, null)],
        hostId: "h1",
        time: T(5),
      }),
    ).toEqual({ kind: "uncorrelated", reason: "host_mismatch" });
    expect(
      correlateEvent({ vm: null, placements: [], hostId: "h1", time: T(5) }),
    ).toEqual({ kind: "uncorrelated", reason: "unknown_vm" });
  });
});

describe("correlateEvent across VM incarnations", () => {
  // vm-1 ran on h1 for another tenant until minute 20, was deleted, and was created again on h2 at 30
  const deleted = {
    ...span("h1", 0, 20, "vmi_0"),
    tenantId: "t-0",
    projectId: "p-0",
  };
  const placements = [deleted, span("h2", 30, null)];

  it("an event from the deleted VM's time belongs to the deleted VM, which the inventory no longer has", () => {
    expect(
      correlateEvent({ vm, placements, hostId: "h1", time: T(10) }),
    ).toEqual({ kind: "uncorrelated", reason: "unknown_vm" });
    expect(
      correlateEvent({ vm, placements, hostId: "h2", time: T(10) }),
    ).toEqual({ kind: "uncorrelated", reason: "host_mismatch" });
  });

  it("an event from the new VM's time, or just before it was placed, belongs to the new VM", () => {
    expect(
      correlateEvent({ vm, placements, hostId: "h2", time: T(25) }),
    ).toEqual({
      kind: "correlated",
      tenantId: "t-1",
      projectId: "p-1",
      incarnation: "vmi_1",
    });
    expect(
      correlateEvent({ vm, placements, hostId: "h2", time: T(40) }),
    ).toEqual({
      kind: "correlated",
      tenantId: "t-1",
      projectId: "p-1",
      incarnation: "vmi_1",
    });
    expect(
      correlateEvent({ vm, placements, hostId: "h1", time: T(40) }),
    ).toEqual({ kind: "uncorrelated", reason: "host_mismatch" });
  });
});
