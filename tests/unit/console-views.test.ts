import { describe, expect, it } from "vitest";
import {
  filtersToSearch,
  logListInput,
  parseLogFilters,
} from "@/app/(console)/logs/params";
import { parseStepBody } from "@/app/_components/playbook";

describe("logs explorer permalinks", () => {
  const at = new Date("2026-11-25T12:00:00.000Z");

  it("reads the query string, ignoring what does not fit", () => {
    expect(
      parseLogFilters({
        project: "acme-prod",
        vm: "bad id!",
        severity: "LOUD",
        range: "24h",
        entry: "log_1",
      }),
    ).toEqual({
      project: "acme-prod",
      range: "24h",
      entry: "log_1",
    });
    expect(parseLogFilters({})).toEqual({ range: "7d" });
    expect(
      parseLogFilters({ since: "2026-11-01T10:00:00+01:00", until: "nope" }),
    ).toEqual({
      range: "custom",
      since: "2026-11-01T09:00:00.000Z",
    });
  });

  it("round-trips through the URL", () => {
    for (const f of [
      { range: "7d" as const },
      {
        project: "p1",
        vm: "vm-1",
        severity: "CRITICAL" as const,
        range: "30d" as const,
      },
      {
        range: "custom" as const,
        since: "2026-11-01T00:00:00.000Z",
        until: "2026-11-02T00:00:00.000Z",
      },
      { range: "all" as const, entry: "log_01ABC" },
    ]) {
      const qs = new URLSearchParams(filtersToSearch(f).slice(1));
      expect(parseLogFilters(Object.fromEntries(qs))).toEqual(f);
    }
    expect(filtersToSearch({ range: "7d" })).toBe("");
  });

  it("turns relative ranges into absolute times for the query", () => {
    expect(logListInput({ range: "24h", severity: "WARNING" }, at)).toEqual({
      limit: 50,
      severity: "WARNING",
      since: "2026-11-24T12:00:00.000Z",
    });
    expect(logListInput({ range: "all" }, at)).toEqual({ limit: 50 });
    expect(
      logListInput(
        {
          range: "custom",
          since: "2026-11-01T00:00:00.000Z",
          until: "2026-11-02T00:00:00.000Z",
          vm: "v",
        },
        at,
      ),
    ).toEqual({
      limit: 50,
      vmId: "v",
      since: "2026-11-01T00:00:00.000Z",
      until: "2026-11-02T00:00:00.000Z",
    });
  });
});

describe("playbook step bodies", () => {
  it("splits commands, sample output, lists and paragraphs", () => {
    const body = [
      "On the VM, as root:",
      '$ sudo journalctl -k | grep -i "memory failure"',
      "$ sudo dmesg -T",
      "The kernel prints lines such as:",
      "  Memory failure: 0x12345: Sending SIGBUS to postgres:4242",
      "  Memory failure: 0x12345: recovery action for dirty LRU page: Recovered",
      "- dirty LRU page: lost",
      "- clean LRU page: nothing lost",
      "1. Fail over.",
      "2. Stop the VM.",
      "Done.",
    ].join("\n");
    expect(parseStepBody(body)).toEqual([
      { kind: "p", text: "On the VM, as root:" },
      {
        kind: "cmd",
        lines: [
          'sudo journalctl -k | grep -i "memory failure"',
          "sudo dmesg -T",
        ],
      },
      { kind: "p", text: "The kernel prints lines such as:" },
      {
        kind: "out",
        lines: [
          "Memory failure: 0x12345: Sending SIGBUS to postgres:4242",
          "Memory failure: 0x12345: recovery action for dirty LRU page: Recovered",
        ],
      },
      {
        kind: "ul",
        items: ["dirty LRU page: lost", "clean LRU page: nothing lost"],
      },
      { kind: "ol", items: ["Fail over.", "Stop the VM."] },
      { kind: "p", text: "Done." },
    ]);
  });
});
