import { describe, expect, it } from "vitest";
import type {
  CorrelatedEvent,
  IncidentRow,
} from "@/server/incidents/incident-change";
import type { ExistingIncidents } from "@/server/incidents/plan-incident-changes";
import {
  pageKeyOf,
  planIncidentChanges,
} from "@/server/incidents/plan-incident-changes";
import type { EventPlaybook } from "@/server/ingest/normalize-event";
import { getPlaybookMeta } from "@/server/playbooks/catalog";

// The grouping rules without a database: severity, playbook, pages and timeline.

const AT = new Date("2026-05-01T12:00:00.000Z");
const T0 = AT.getTime() - 60_000;

let serial = 0;
const counterId = (prefix: string) =>
  `${prefix}_${String(++serial).padStart(4, "0")}`;
const policy = { at: AT, newId: counterId };

type EventSpec = {
  vm?: string;
  page?: number | null;
  latent?: boolean;
  kernel?: boolean;
  restarted?: boolean;
  offsetMs?: number;
  actions?: string[];
};

function ev(s: EventSpec = {}): CorrelatedEvent {
  const n = ++serial;
  const vm = s.vm ?? "vm-a";
  const page = s.page === undefined ? 1 : s.page;
  const gpa = page === null ? null : `0x${(0x100000 + page).toString(16)}000`;
  const eventPlaybook: EventPlaybook = s.restarted
    ? "vm-restarted"
    : s.kernel
      ? "guest-kernel-memory-error"
      : s.latent
        ? "latent-memory-error"
        : "user-process-memory-error";
  return {
    eventId: `evt_${n}`,
    logEntryId: `log_${n}`,
    vm: {
      id: vm,
      incarnation: `vmi_1.${vm}`,
      tenantId: "t1",
      projectId: "p1",
      name: `${vm}-name`,
      zone: "z1",
    },
    tenantId: "t1",
    projectId: "p1",
    hostId: "h1",
    eventTime: new Date(T0 + (s.offsetMs ?? n)),
    receivedAt: AT,
    data: {
      vmId: vm,
      hostId: "h1",
      arch: "arm64",
      mechanism: "kvm_exit_arm_sea",
      guestMode: s.kernel ? "kernel" : "user",
      actions: s.actions ?? ["sea_injected"],
      vcpu: 0,
    } as CorrelatedEvent["data"],
    norm: {
      severity: s.latent ? "WARNING" : "CRITICAL",
      consumed: !s.latent,
      gpa,
      gva: null,
      pageSize: page === null ? null : 4096,
      pageKey: gpa,
      esr: null,
      eventPlaybook,
      guestKernel: s.kernel === true,
      message: "m",
    },
  };
}

function incident(over: Partial<IncidentRow> = {}): IncidentRow {
  const pb = getPlaybookMeta("user-process-memory-error");
  return {
    id: "inc_existing",
    tenantId: "t1",
    projectId: "p1",
    vmId: "vm-a",
    vmIncarnation: "vmi_1.vm-a",
    vmName: "vm-a-name",
    zone: "z1",
    status: "open",
    severity: "CRITICAL",
    openedAt: new Date(T0 - 3_600_000),
    updatedAt: new Date(T0 - 3_600_000),
    resolvedAt: null,
    lastErrorAt: new Date(T0 - 3_600_000),
    errorCount: 1,
    distinctPages: 1,
    eventPlaybook: "user-process-memory-error",
    playbookKey: pb.key,
    playbookVersion: pb.version,
    guestKernel: false,
    actions: ["sea_injected"],
    arch: "arm64",
    guestMode: "user",
    notifyDueAt: null,
    lastNotifiedAt: null,
    pendingChanges: [],
    version: 3,
    ...over,
  };
}

const none: ExistingIncidents = { incidents: new Map(), pages: new Map() };

function existingWith(
  inc: IncidentRow,
  knownPages: CorrelatedEvent[] = [],
): ExistingIncidents {
  return {
    incidents: new Map([[inc.vmIncarnation, inc]]),
    pages: new Map([[inc.id, new Set(knownPages.map(pageKeyOf))]]),
  };
}

const kinds = (p: ReturnType<typeof planIncidentChanges>) =>
  p.timeline.map((t) => t.kind);

describe("planIncidentChanges: a VM without an unresolved incident", () => {
  it.each([
    {
      name: "one consumed error opens a CRITICAL incident on the user-process playbook",
      events: () => [ev()],
      severity: "CRITICAL",
      playbook: "user-process-memory-error",
      pages: 1,
      timeline: ["opened"],
    },
    {
      name: "a latent error opens a WARNING incident",
      events: () => [ev({ latent: true })],
      severity: "WARNING",
      playbook: "latent-memory-error",
      pages: 1,
      timeline: ["opened"],
    },
    {
      name: "two errors on one page: one page, no 'new page' entry",
      events: () => [ev({ page: 7 }), ev({ page: 7 })],
      severity: "CRITICAL",
      playbook: "user-process-memory-error",
      pages: 1,
      timeline: ["opened"],
    },
    {
      name: "errors on two pages: repeated-memory-errors, the second page told",
      events: () => [ev({ page: 1 }), ev({ page: 2 })],
      severity: "CRITICAL",
      playbook: "repeated-memory-errors",
      pages: 2,
      timeline: ["opened", "error"],
    },
    {
      name: "a latent and a consumed error: the stronger severity",
      events: () => [ev({ latent: true, page: 1 }), ev({ page: 1 })],
      severity: "CRITICAL",
      playbook: "user-process-memory-error",
      pages: 1,
      timeline: ["opened"],
    },
    {
      name: "a guest kernel error wins over the page count",
      events: () => [ev({ page: 1 }), ev({ page: 2, kernel: true })],
      severity: "CRITICAL",
      playbook: "guest-kernel-memory-error",
      pages: 2,
      timeline: ["opened", "error"],
    },
    {
      name: "unlocated errors are a page each",
      events: () => [ev({ page: null }), ev({ page: null })],
      severity: "CRITICAL",
      playbook: "repeated-memory-errors",
      pages: 2,
      timeline: ["opened", "error"],
    },
    {
      name: "seven new pages: the opening, five entries, then a summary",
      events: () => [1, 2, 3, 4, 5, 6, 7].map((page) => ev({ page })),
      severity: "CRITICAL",
      playbook: "repeated-memory-errors",
      pages: 7,
      timeline: [
        "opened",
        "error",
        "error",
        "error",
        "error",
        "error",
        "error",
      ],
    },
  ])("$name", (c) => {
    const events = c.events();
    const plan = planIncidentChanges(none, events, policy);
    expect(plan.opened).toHaveLength(1);
    expect(plan.updated).toEqual([]);
    const inc = plan.opened[0]!;
    expect(inc).toMatchObject({
      vmIncarnation: "vmi_1.vm-a",
      status: "open",
      severity: c.severity,
      playbookKey: c.playbook,
      distinctPages: c.pages,
      errorCount: events.length,
      openedAt: AT,
      updatedAt: AT,
    });
    expect(kinds(plan)).toEqual(c.timeline);
    expect(plan.timeline[0]!.logEntryId).toBe(events[0]!.logEntryId);
    expect(plan.pages.reduce((n, p) => n + p.count, 0)).toBe(events.length);
    expect(new Set(plan.pages.map((p) => p.pageKey)).size).toBe(c.pages);
    expect(plan.changes).toEqual([
      expect.objectContaining({
        kind: "opened",
        incidentId: inc.id,
        newPages: c.pages,
        severityRaised: false,
        logEntryIds: events.map((e) => e.logEntryId),
      }),
    ]);
    expect(
      plan.logEntries.map((l) => [l.id, l.incidentId, l.playbook]),
    ).toEqual(events.map((e) => [e.logEntryId, inc.id, c.playbook]));
  });

  it("summarises the new pages past five: '2 more new poisoned pages'", () => {
    const plan = planIncidentChanges(
      none,
      [1, 2, 3, 4, 5, 6, 7, 8].map((page) => ev({ page })),
      policy,
    );
    expect(plan.timeline.at(-1)).toMatchObject({
      kind: "error",
      summary: "2 more new poisoned pages",
      logEntryId: null,
    });
  });

  it("uses the earliest event of the VM first, whatever the order they came in", () => {
    const late = ev({ page: 2, offsetMs: 5_000 });
    const early = ev({ page: 1, offsetMs: 1_000 });
    const plan = planIncidentChanges(none, [late, early], policy);
    expect(plan.timeline[0]!.logEntryId).toBe(early.logEntryId);
    expect(plan.opened[0]!.lastErrorAt).toEqual(late.eventTime);
    expect(
      plan.pages.find((p) => p.pageKey === early.norm.pageKey),
    ).toMatchObject({ firstSeenAt: early.eventTime, count: 1 });
    // log entries keep the order the events came in
    expect(plan.logEntries.map((l) => l.id)).toEqual([
      late.logEntryId,
      early.logEntryId,
    ]);
  });
});

describe("planIncidentChanges: a VM with an unresolved incident", () => {
  it.each([
    {
      name: "a page it already has: counted, nothing new",
      inc: {},
      known: [1],
      events: [{ page: 1 }],
      expect: {
        severity: "CRITICAL",
        playbook: "user-process-memory-error",
        distinctPages: 1,
        newPages: 0,
        severityRaised: false,
        timeline: [],
      },
    },
    {
      name: "a second page: repeated-memory-errors, told twice",
      inc: {},
      known: [1],
      events: [{ page: 2 }],
      expect: {
        severity: "CRITICAL",
        playbook: "repeated-memory-errors",
        distinctPages: 2,
        newPages: 1,
        severityRaised: false,
        timeline: ["playbook_changed", "error"],
      },
    },
    {
      name: "a consumed error on a WARNING incident raises its severity",
      inc: {
        severity: "WARNING" as const,
        eventPlaybook: "latent-memory-error",
        playbookKey: "latent-memory-error",
      },
      known: [1],
      events: [{ page: 1 }],
      expect: {
        severity: "CRITICAL",
        playbook: "user-process-memory-error",
        distinctPages: 1,
        newPages: 0,
        severityRaised: true,
        timeline: ["severity_raised", "playbook_changed"],
      },
    },
    {
      name: "a latent error never lowers the severity",
      inc: {},
      known: [1],
      events: [{ page: 1, latent: true }],
      expect: {
        severity: "CRITICAL",
        playbook: "user-process-memory-error",
        distinctPages: 1,
        newPages: 0,
        severityRaised: false,
        timeline: [],
      },
    },
    {
      name: "an evacuating incident keeps the evacuation playbook",
      inc: {
        status: "evacuating" as const,
        playbookKey: "evacuation-scheduled",
      },
      known: [1],
      events: [{ page: 2 }],
      expect: {
        severity: "CRITICAL",
        playbook: "evacuation-scheduled",
        distinctPages: 2,
        newPages: 1,
        severityRaised: false,
        timeline: ["error"],
      },
    },
  ])("$name", (c) => {
    const inc = incident(c.inc);
    const known = c.known.map((page) => ev({ page }));
    const events = c.events.map((s) => ev(s));
    const plan = planIncidentChanges(existingWith(inc, known), events, policy);
    expect(plan.opened).toEqual([]);
    expect(plan.updated).toHaveLength(1);
    const next = plan.updated[0]!;
    expect(next).toMatchObject({
      id: inc.id,
      severity: c.expect.severity,
      playbookKey: c.expect.playbook,
      distinctPages: c.expect.distinctPages,
      errorCount: inc.errorCount + events.length,
      updatedAt: AT,
      openedAt: inc.openedAt,
      version: inc.version + 1,
    });
    expect(kinds(plan)).toEqual(c.expect.timeline);
    expect(plan.changes).toEqual([
      expect.objectContaining({
        kind: "updated",
        incidentId: inc.id,
        newPages: c.expect.newPages,
        severityRaised: c.expect.severityRaised,
      }),
    ]);
    expect(plan.pages).toEqual(
      events.map((e) => ({
        incidentId: inc.id,
        pageKey: e.norm.pageKey,
        firstSeenAt: e.eventTime,
        count: 1,
      })),
    );
  });

  it("the severity_raised entry points at the consumed error", () => {
    const inc = incident({
      severity: "WARNING",
      eventPlaybook: "latent-memory-error",
      playbookKey: "latent-memory-error",
    });
    const latent = ev({ page: 1, latent: true });
    const consumed = ev({ page: 1 });
    const plan = planIncidentChanges(
      existingWith(inc, [latent]),
      [latent, consumed],
      policy,
    );
    expect(plan.timeline[0]).toMatchObject({
      kind: "severity_raised",
      logEntryId: consumed.logEntryId,
      summary: "Severity raised to CRITICAL: an error was consumed",
    });
  });

  it("merges actions and guest mode, keeps the latest error time", () => {
    const inc = incident({
      lastErrorAt: new Date(T0 + 10_000_000),
      actions: ["sea_injected"],
    });
    const plan = planIncidentChanges(
      existingWith(inc, []),
      [ev({ page: 3, kernel: true, actions: ["page_unmapped"] })],
      policy,
    );
    expect(plan.updated[0]).toMatchObject({
      actions: ["sea_injected", "page_unmapped"],
      guestMode: "kernel",
      guestKernel: true,
      playbookKey: "guest-kernel-memory-error",
      lastErrorAt: inc.lastErrorAt,
    });
  });

  it("opens and updates in one batch: opened changes first, each VM its own incident", () => {
    const inc = incident();
    const a = ev({ vm: "vm-a", page: 1 });
    const b = ev({ vm: "vm-b", page: 1 });
    const plan = planIncidentChanges(existingWith(inc, [a]), [a, b], policy);
    expect(plan.changes.map((c) => [c.vmId, c.kind])).toEqual([
      ["vm-b", "opened"],
      ["vm-a", "updated"],
    ]);
    expect(plan.opened.map((i) => i.vmIncarnation)).toEqual(["vmi_1.vm-b"]);
    expect(plan.changes[1]!.logEntries!.map((l) => l.id)).toEqual([
      a.logEntryId,
    ]);
    expect(plan.changes[0]!.logEntries!.map((l) => l.id)).toEqual([
      b.logEntryId,
    ]);
  });

  it("plans nothing for no events", () => {
    expect(planIncidentChanges(existingWith(incident()), [], policy)).toEqual({
      opened: [],
      updated: [],
      pages: [],
      timeline: [],
      logEntries: [],
      changes: [],
    });
  });
});
