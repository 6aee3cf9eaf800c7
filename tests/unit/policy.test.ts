import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "@/server/policy/thresholds";
import type { PolicyEvent } from "@/server/policy/policy";
import {
  decideHostVm,
  decideVm,
  hostStateOf,
  pageIdOf,
  summarizeHost,
  summarizeVm,
  windowStartOf,
} from "@/server/policy/policy";

const AT = new Date("2026-03-10T12:00:00.000Z");
const P = DEFAULT_POLICY; // window 86400 s, vmPages 4, guest kernel true, host 8 / 16

let n = 0;
// ago: seconds before AT of the event time; received defaults to the event time
function ev(o: {
  vm?: string;
  page?: string | null;
  ago?: number;
  gk?: boolean;
  recvAgo?: number;
  id?: string;
}): PolicyEvent {
  n += 1;
  const t = AT.getTime() - (o.ago ?? 60) * 1000;
  return {
    id: o.id ?? `evt_${n}`,
    vmId: o.vm ?? "vm-1",
    pageKey: o.page === undefined ? `0x${(0x1000 * n).toString(16)}` : o.page,
    eventTime: new Date(t),
    receivedAt: new Date(
      o.recvAgo !== undefined ? AT.getTime() - o.recvAgo * 1000 : t,
    ),
    guestKernel: o.gk ?? false,
  };
}
const pages = (k: number, o: Parameters<typeof ev>[0] = {}) =>
  Array.from({ length: k }, () => ev(o));

describe("summarizeVm + decideVm", () => {
  const W = P.windowSeconds;
  const cases: {
    name: string;
    events: PolicyEvent[];
    pages: number;
    decision: ReturnType<typeof decideVm>;
    policy?: Partial<typeof P>;
  }[] = [
    {
      name: "no events",
      events: [],
      pages: 0,
      decision: { evacuate: false, reason: null, suppressedByCancel: false },
    },
    {
      name: "three distinct pages stay below vmPages",
      events: pages(3),
      pages: 3,
      decision: { evacuate: false, reason: null, suppressedByCancel: false },
    },
    {
      name: "four distinct pages reach vmPages",
      events: pages(4),
      pages: 4,
      decision: { evacuate: true, reason: "distinct_pages" },
    },
    {
      name: "repeats of one page count once",
      events: [
        ev({ page: "0xa" }),
        ev({ page: "0xa" }),
        ev({ page: "0xa" }),
        ev({ page: "0xa" }),
        ev({ page: "0xb" }),
      ],
      pages: 2,
      decision: { evacuate: false, reason: null, suppressedByCancel: false },
    },
    {
      name: "each unlocated error is a page of its own",
      events: [
        ev({ page: null }),
        ev({ page: null }),
        ev({ page: null }),
        ev({ page: "0xa" }),
      ],
      pages: 4,
      decision: { evacuate: true, reason: "distinct_pages" },
    },
    {
      name: "an unlocated error repeated under the same event id is still one page",
      events: [
        ev({ page: null, id: "evt_same" }),
        ev({ page: null, id: "evt_same" }),
      ],
      pages: 1,
      decision: { evacuate: false, reason: null, suppressedByCancel: false },
    },
    {
      name: "window start is inclusive: an event exactly windowSeconds old counts",
      events: [...pages(3), ev({ ago: W })],
      pages: 4,
      decision: { evacuate: true, reason: "distinct_pages" },
    },
    {
      name: "one millisecond older than the window does not count",
      events: [...pages(3), ev({ ago: W + 0.001 })],
      pages: 3,
      decision: { evacuate: false, reason: null, suppressedByCancel: false },
    },
    {
      name: "events up to 5 minutes ahead of the clock count (no upper edge)",
      events: [...pages(3), ev({ ago: -300 })],
      pages: 4,
      decision: { evacuate: true, reason: "distinct_pages" },
    },
    {
      name: "a page repeated inside and outside the window counts once, from inside",
      events: [
        ev({ page: "0xa", ago: W + 10 }),
        ev({ page: "0xa", ago: 10 }),
        ev({ page: "0xb", ago: W + 10 }),
      ],
      pages: 1,
      decision: { evacuate: false, reason: null, suppressedByCancel: false },
    },
    {
      name: "any guest-kernel consumption evacuates",
      events: [ev({ gk: true })],
      pages: 1,
      decision: { evacuate: true, reason: "guest_kernel" },
    },
    {
      name: "guest kernel wins the reason when both hold",
      events: [...pages(4), ev({ gk: true })],
      pages: 5,
      decision: { evacuate: true, reason: "guest_kernel" },
    },
    {
      name: "guest kernel ignored when evacuateOnGuestKernel is off",
      events: [ev({ gk: true })],
      pages: 1,
      policy: { evacuateOnGuestKernel: false },
      decision: { evacuate: false, reason: null, suppressedByCancel: false },
    },
    {
      name: "guest kernel outside the window does not count",
      events: [ev({ gk: true, ago: W + 1 })],
      pages: 0,
      decision: { evacuate: false, reason: null, suppressedByCancel: false },
    },
    {
      name: "vmPages 1 evacuates on the first page",
      events: pages(1),
      pages: 1,
      policy: { vmPages: 1 },
      decision: { evacuate: true, reason: "distinct_pages" },
    },
    {
      name: "a shorter window drops older pages",
      events: [...pages(2, { ago: 30 }), ...pages(2, { ago: 3601 })],
      pages: 2,
      policy: { windowSeconds: 3600 },
      decision: { evacuate: false, reason: null, suppressedByCancel: false },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const policy = { ...P, ...c.policy };
      const s = summarizeVm(c.events, AT, policy);
      expect(s.distinctPages).toBe(c.pages);
      expect(decideVm(s, policy)).toEqual(c.decision);
    });
  }

  it("pages before the last completed evacuation no longer count (countFrom inclusive)", () => {
    const from = new Date(AT.getTime() - 3600_000);
    const events = [
      ...pages(4, { ago: 7200 }),
      ev({ ago: 3600 }),
      ev({ ago: 60 }),
    ];
    expect(summarizeVm(events, AT, P).distinctPages).toBe(6);
    expect(summarizeVm(events, AT, P, { countFrom: from }).distinctPages).toBe(
      2,
    );
  });

  it("a cancel holds until new evidence is received after it", () => {
    const cancelledAt = new Date(AT.getTime() - 600_000);
    const before = pages(4, { ago: 3600 });
    const s1 = summarizeVm(before, AT, P);
    expect(decideVm(s1, P, { cancelledAt })).toEqual({
      evacuate: false,
      reason: null,
      suppressedByCancel: true,
    });
    // a repeat of a known page after the cancel is not new evidence
    const repeat = {
      ...before[0]!,
      id: "evt_repeat",
      receivedAt: new Date(AT.getTime() - 60_000),
      eventTime: new Date(AT.getTime() - 60_000),
    };
    expect(
      decideVm(summarizeVm([...before, repeat], AT, P), P, { cancelledAt })
        .evacuate,
    ).toBe(false);
    // a new page is
    expect(
      decideVm(summarizeVm([...before, ev({ ago: 60 })], AT, P), P, {
        cancelledAt,
      }),
    ).toEqual({ evacuate: true, reason: "distinct_pages" });
    // so is a guest-kernel consumption, even on a known page
    expect(
      decideVm(
        summarizeVm([...before, { ...repeat, guestKernel: true }], AT, P),
        P,
        { cancelledAt },
      ).evacuate,
    ).toBe(true);
    // evidence received exactly at the cancel is not after it
    const atCancel = ev({ recvAgo: 600 });
    expect(
      decideVm(summarizeVm([...before, atCancel], AT, P), P, { cancelledAt })
        .evacuate,
    ).toBe(false);
  });

  it("lastNewEvidenceAt uses the first receipt of each page", () => {
    const a = ev({ page: "0xa", ago: 100, recvAgo: 100 });
    const a2 = ev({ page: "0xa", ago: 10, recvAgo: 10 });
    expect(summarizeVm([a, a2], AT, P).lastNewEvidenceAt).toEqual(a.receivedAt);
  });
});

describe("summarizeHost + hostStateOf", () => {
  const W = P.windowSeconds;
  const spread = (k: number, vms: number, o: Parameters<typeof ev>[0] = {}) =>
    Array.from({ length: k }, (_, i) => ev({ ...o, vm: `vm-${i % vms}` }));
  const cases: {
    name: string;
    events: PolicyEvent[];
    pages: number;
    state: string;
    vms: number;
    policy?: Partial<typeof P>;
  }[] = [
    {
      name: "no events is healthy",
      events: [],
      pages: 0,
      state: "healthy",
      vms: 0,
    },
    {
      name: "7 pairs is healthy",
      events: spread(7, 3),
      pages: 7,
      state: "healthy",
      vms: 3,
    },
    {
      name: "8 pairs is degraded",
      events: spread(8, 3),
      pages: 8,
      state: "degraded",
      vms: 3,
    },
    {
      name: "15 pairs is degraded",
      events: spread(15, 5),
      pages: 15,
      state: "degraded",
      vms: 5,
    },
    {
      name: "16 pairs is evacuate",
      events: spread(16, 5),
      pages: 16,
      state: "evacuate",
      vms: 5,
    },
    {
      name: "the same address in two VMs is two pairs",
      events: [
        ev({ vm: "a", page: "0x1" }),
        ev({ vm: "b", page: "0x1" }),
        ev({ vm: "a", page: "0x1" }),
      ],
      pages: 2,
      state: "healthy",
      vms: 2,
    },
    {
      name: "unlocated errors are one pair each",
      events: Array.from({ length: 8 }, () => ev({ vm: "a", page: null })),
      pages: 8,
      state: "degraded",
      vms: 1,
    },
    {
      name: "window edge inclusive on the host too",
      events: [...spread(7, 2), ev({ vm: "vm-9", ago: W })],
      pages: 8,
      state: "degraded",
      vms: 3,
    },
    {
      name: "older than the window is not counted",
      events: [...spread(7, 2), ev({ vm: "vm-9", ago: W + 0.001 })],
      pages: 7,
      state: "healthy",
      vms: 2,
    },
    {
      name: "custom thresholds",
      events: spread(3, 3),
      pages: 3,
      state: "evacuate",
      vms: 3,
      policy: { hostDegradedPages: 2, hostEvacuatePages: 3 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const policy = { ...P, ...c.policy };
      const s = summarizeHost(c.events, AT, policy);
      expect(s.distinctPages).toBe(c.pages);
      expect(s.affectedVmIds).toHaveLength(c.vms);
      expect(hostStateOf(s.distinctPages, policy)).toBe(c.state);
    });
  }

  it("a host in evacuate evacuates its VMs unless a cancel holds", () => {
    const s = summarizeHost(spread(16, 4, { ago: 3600 }), AT, P);
    expect(decideHostVm(s, P)).toBe(true);
    expect(
      decideHostVm(s, P, { cancelledAt: new Date(AT.getTime() - 60_000) }),
    ).toBe(false);
    const more = summarizeHost(
      [...spread(16, 4, { ago: 3600 }), ev({ vm: "vm-0", ago: 10 })],
      AT,
      P,
    );
    expect(
      decideHostVm(more, P, { cancelledAt: new Date(AT.getTime() - 60_000) }),
    ).toBe(true);
    expect(decideHostVm(summarizeHost(spread(15, 4), AT, P), P)).toBe(false);
  });
});

describe("helpers", () => {
  it("windowStartOf and pageIdOf", () => {
    expect(windowStartOf(AT, { windowSeconds: 60 }).toISOString()).toBe(
      "2026-03-10T11:59:00.000Z",
    );
    expect(pageIdOf({ id: "evt_1", pageKey: null })).toBe("unlocated:evt_1");
    expect(pageIdOf({ id: "evt_1", pageKey: "0x1000" })).toBe("0x1000");
  });
});
