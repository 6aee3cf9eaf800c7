import { describe, expect, it } from "vitest";
import { MaintenanceWindow, nextOpening } from "@/server/policy/maintenance-window";
import { incidentName } from "@/server/incidents/incident-name";

const w = (o: Partial<MaintenanceWindow> = {}): MaintenanceWindow => ({ days: ["tue"], start: "02:00", durationMinutes: 60, timeZone: "Europe/Berlin", ...o });
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
    const late = w({ days: ["sat"], start: "23:30", durationMinutes: 120, timeZone: "UTC" });
    // Sunday 01:00 UTC is inside Saturday's 23:30–01:30 window
    expect(nextOpening(late, new Date("2026-12-13T01:00:00Z")).toISOString()).toBe("2026-12-13T01:00:00.000Z");
    const ny = w({ days: ["mon", "fri"], start: "03:00", timeZone: "America/New_York" });
    // Friday 2026-11-06 → next is Monday 2026-11-09 03:00 EST (DST ended on 2026-11-01)
    expect(nextOpening(ny, new Date("2026-11-06T12:00:00Z")).toISOString()).toBe("2026-11-09T08:00:00.000Z");
    // a start inside the spring-forward gap (02:30 does not exist on 2026-03-29 in Berlin) lands after the gap
    const gap = w({ days: ["sun"], start: "02:30", timeZone: "Europe/Berlin" });
    expect(nextOpening(gap, new Date("2026-03-28T12:00:00Z")).toISOString()).toBe("2026-03-29T01:30:00.000Z");
  });

  it("rejects what is not a window", () => {
    expect(MaintenanceWindow.safeParse(w({ timeZone: "Nowhere/Else" })).success).toBe(false);
    expect(MaintenanceWindow.safeParse(w({ start: "12:60" })).success).toBe(false);
    expect(MaintenanceWindow.safeParse(w({ days: [] })).success).toBe(false);
    expect(MaintenanceWindow.safeParse(w()).success).toBe(true);
  });
});

describe("incidentName", () => {
  it("names the VM first and what happened, never the id", () => {
    const base = { vmName: "db-1", status: "evacuating" as const, playbook: { key: "evacuation-scheduled" } };
    expect(incidentName({ ...base, evacuation: { status: "in_progress" } })).toBe("db-1 — restarting on a healthy host");
    expect(incidentName({ ...base, evacuation: { status: "scheduled" } })).toBe("db-1 — restart on a healthy host scheduled");
    expect(incidentName({ ...base, status: "open", playbook: { key: "user-process-memory-error" }, evacuation: null })).toBe("db-1 — memory error in a user process");
    expect(incidentName({ ...base, status: "open", playbook: { key: "user-process-memory-error" }, evacuation: { status: "cancelled" } })).toBe(
      "db-1 — memory error in a user process",
    );
  });
});
