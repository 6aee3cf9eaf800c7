import { describe, expect, it } from "vitest";
import {
  MaintenanceWindow,
  nextOpening,
} from "@/server/policy/maintenance-window";
import { countdownText } from "@/app/_components/evacuation-banner";
import { incidentName } from "@/emails/_components/incident-name";
import { actionBeforeRestart } from "@/server/incidents/action-before-restart";
import { plainWords } from "@/server/incidents/plain-words";
import { fillPlaybook } from "@/server/playbooks/catalog";

const w = (o: Partial<MaintenanceWindow> = {}): MaintenanceWindow => ({
  days: ["tue"],
  start: "02:00",
  durationMinutes: 60,
  timeZone: "Europe/Berlin",
  ...o,
});
const at = (s: string) => nextOpening(w(), new Date(s)).toISOString();

describe("nextOpening", () => {
  it("is the next start of the window in its own time zone", () => {
    // Monday 09:00 UTC → Tuesday 02:00 CET = 01:00 UTC
    expect(at("2026-12-07T09:00:00Z")).toBe("2026-12-08T01:00:00.000Z");
    // summer time: 02:00 CEST = 00:00 UTC
    expect(at("2026-07-06T09:00:00Z")).toBe("2026-07-07T00:00:00.000Z");
  });

  it("is the instant itself inside an opening, and next week's start after it closed", () => {
    expect(at("2026-12-08T01:30:00Z")).toBe("2026-12-08T01:30:00.000Z");
    expect(at("2026-12-08T02:00:00Z")).toBe("2026-12-15T01:00:00.000Z");
  });

  it("handles a window across midnight, several days, and a DST change inside the search", () => {
    const late = w({
      days: ["sat"],
      start: "23:30",
      durationMinutes: 120,
      timeZone: "UTC",
    });
    // Sunday 01:00 UTC is inside Saturday's 23:30–01:30 window
    expect(
      nextOpening(late, new Date("2026-12-13T01:00:00Z")).toISOString(),
    ).toBe("2026-12-13T01:00:00.000Z");
    const ny = w({
      days: ["mon", "fri"],
      start: "03:00",
      timeZone: "America/New_York",
    });
    // Friday 2026-11-06 → next is Monday 2026-11-09 03:00 EST (DST ended on 2026-11-01)
    expect(
      nextOpening(ny, new Date("2026-11-06T12:00:00Z")).toISOString(),
    ).toBe("2026-11-09T08:00:00.000Z");
    // a start inside the spring-forward gap (02:30 does not exist on 2026-03-29 in Berlin) lands after the gap
    const gap = w({ days: ["sun"], start: "02:30", timeZone: "Europe/Berlin" });
    expect(
      nextOpening(gap, new Date("2026-03-28T12:00:00Z")).toISOString(),
    ).toBe("2026-03-29T01:30:00.000Z");
  });

  it("rejects what is not a window", () => {
    expect(
      MaintenanceWindow.safeParse(w({ timeZone: "Nowhere/Else" })).success,
    ).toBe(false);
    expect(MaintenanceWindow.safeParse(w({ start: "12:60" })).success).toBe(
      false,
    );
    expect(MaintenanceWindow.safeParse(w({ days: [] })).success).toBe(false);
    expect(MaintenanceWindow.safeParse(w()).success).toBe(true);
  });
});

describe("incidentName", () => {
  it("names the VM first and what happened, never the id", () => {
    const base = {
      vmName: "db-1",
      status: "evacuating" as const,
      playbook: { key: "evacuation-scheduled" },
    };
    expect(
      incidentName({ ...base, evacuation: { status: "in_progress" } }),
    ).toBe("db-1 — restarting on a healthy host");
    expect(incidentName({ ...base, evacuation: { status: "scheduled" } })).toBe(
      "db-1 — restart on a healthy host scheduled",
    );
    expect(
      incidentName({
        ...base,
        status: "open",
        playbook: { key: "user-process-memory-error" },
        evacuation: null,
      }),
    ).toBe("db-1 — memory error in a user process");
    expect(
      incidentName({
        ...base,
        status: "open",
        playbook: { key: "user-process-memory-error" },
        evacuation: { status: "cancelled" },
      }),
    ).toBe("db-1 — memory error in a user process");
  });
});

describe("the banner's one action before a restart", () => {
  const facts = {
    vmId: "vm-7f3a",
    vmName: "db-1",
    projectId: "prj-shop",
    zone: "eu-west-1a",
    firstErrorAt: new Date("2025-10-13T18:59:03Z"),
    lastErrorAt: new Date("2025-10-13T19:04:10Z"),
    errorCount: 3,
    distinctPages: 4,
    threshold: 4,
    windowSeconds: 86_400,
    gpas: [],
    actions: ["sea_injected", "page_unmapped"],
    mechanisms: ["kvm_exit_arm_sea"],
    hypervisorMemory: false,
    guestMemory: true,
    guestMode: "user" as const,
    arch: "arm64" as const,
    severity: "CRITICAL" as const,
  };

  it("is a sentence of the evacuation playbook, scheduled or under way, never a command or a heading", () => {
    for (const status of ["scheduled", "in_progress"] as const) {
      const steps = fillPlaybook("evacuation-scheduled", {
        ...facts,
        evacuation: { status, scheduledFor: new Date("2025-10-13T21:00:00Z") },
      }).steps;
      const action = actionBeforeRestart(steps);
      expect(action, status).toBeTruthy();
      expect(action!.length).toBeGreaterThan(20);
      expect(action).not.toMatch(/^(\$|- )|:$/);
    }
  });

  it("counts down in words a person reads at a glance", () => {
    expect(countdownText(14 * 60_000 + 5_000)).toBe("in 14 min 05 s");
    expect(countdownText(3 * 3600_000 + 5 * 60_000)).toBe("in 3 h 05 min");
    expect(countdownText(26 * 3600_000)).toBe("in 1 d 2 h");
    expect(countdownText(0)).toBe("any moment now");
  });
});

describe("a log entry in plain words", () => {
  it("says what touched the memory, what the hardware said, and what the platform did", () => {
    expect(
      plainWords(
        {
          mechanism: "kvm_exit_arm_sea",
          guestMode: "user",
          actions: ["sea_injected", "page_unmapped"],
          esr: { ecName: "DABT (lower EL)", wnr: 0, errorState: "UER" },
        },
        "CRITICAL",
      ),
    ).toBe(
      "A data read from a guest user process hit an uncorrectable memory error that the hardware contained (recoverable); the error was passed to the guest, the page was unmapped.",
    );
    expect(
      plainWords(
        { guestMode: "kernel", actions: ["mce_injected"], esr: null },
        "CRITICAL",
      ),
    ).toBe(
      "The guest kernel used memory with an uncorrectable error; a machine check was passed to the guest.",
    );
    expect(plainWords({ actions: [] }, "WARNING")).toBe(
      "An uncorrectable memory error was found in the guest's memory before anything used it.",
    );
    expect(
      plainWords(
        {
          esr: { ecName: "IABT (lower EL)", errorState: null },
          guestMode: "user",
          actions: ["vm_stopped"],
        },
        "CRITICAL",
      ),
    ).toBe(
      "An instruction fetch by a guest user process hit an uncorrectable memory error; the VM was stopped.",
    );
  });
});
