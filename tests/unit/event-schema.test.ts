import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  CloudEvent,
  MemoryErrorData,
  eventIdOf,
  parseCloudEvent,
  parseRfc3339,
} from "@/server/ingest/event-schema";

const NOW = new Date("2025-11-20T10:20:00.000Z");

function armEvent(
  over: Record<string, unknown> = {},
  data: Record<string, unknown> = {},
) {
  return {
    specversion: "1.0",
    id: "ev-1",
    source: "/hosts/host-a17",
    type: "vmm.memory_error.v1",
    time: "2025-11-20T10:15:00Z",
    subject: "vm-3f9c2a",
    datacontenttype: "application/json",
    data: {
      vmId: "vm-3f9c2a",
      hostId: "host-a17",
      vcpu: 3,
      arch: "arm64",
      mechanism: "kvm_exit_arm_sea",
      armSea: {
        flags: 1,
        esr: "0x0000000092000010",
        gva: "0x0000ffff9a2b3c40",
        gpa: "0x00000001234f8000",
      },
      guestMode: "user",
      actions: ["sea_injected", "page_unmapped"],
      ...data,
    },
    ...over,
  };
}

const sigbusData = {
  arch: "x86_64",
  mechanism: "sigbus",
  armSea: undefined,
  sigbus: { code: "BUS_MCEERR_AR", addrLsb: 12, gpa: "0x00000000b7a41000" },
};
const qemuData = {
  arch: "x86_64",
  mechanism: "qemu_memory_failure",
  armSea: undefined,
  qemu: {
    recipient: "guest",
    action: "inject",
    flags: { "action-required": true, recursive: false },
  },
};

function paths(raw: unknown, now = NOW) {
  const r = parseCloudEvent(raw, now);
  if (r.ok) throw new Error("expected a rejection");
  return r.details.map((d) => d.path);
}

describe("parseCloudEvent: valid events", () => {
  it("parses the spec's arm64 example into typed data with a Date", () => {
    const r = parseCloudEvent(armEvent(), NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event.id).toBe("ev-1");
    expect(r.event.subject).toBe("vm-3f9c2a");
    expect(r.event.source).toBe("/hosts/host-a17");
    expect(r.event.time).toEqual(new Date("2025-11-20T10:15:00.000Z"));
    expect(r.event.data.armSea?.esr).toBe("0x0000000092000010");
    expect(r.event.data.actions).toEqual(["sea_injected", "page_unmapped"]);
  });

  it("reads QEMU's MEMORY_FAILURE data verbatim and libvirt's integers as the same event", () => {
    // QMP: {"event": "MEMORY_FAILURE", "data": {...}} — the data goes in as it is
    const qmp = JSON.parse(
      '{"timestamp": {"seconds": 1733212345, "microseconds": 123456}, "event": "MEMORY_FAILURE", ' +
        '"data": {"recipient": "guest", "action": "inject", "flags": {"action-required": true, "recursive": false}}}',
    ) as { data: unknown };
    const fromQemu = parseCloudEvent(
      armEvent({}, { ...qemuData, actions: undefined, qemu: qmp.data }),
      NOW,
    );
    // virConnectDomainEventMemoryFailureCallback(conn, dom, recipient = 1, action = 1, flags = 1)
    const fromLibvirt = parseCloudEvent(
      armEvent(
        {},
        {
          ...qemuData,
          actions: undefined,
          qemu: { recipient: 1, action: 1, flags: 1 },
        },
      ),
      NOW,
    );
    const fromFirstVersion = parseCloudEvent(
      armEvent(
        {},
        {
          ...qemuData,
          actions: undefined,
          qemu: {
            recipient: "guest",
            action: "inject",
            flags: { actionRequired: true, recursive: false },
          },
        },
      ),
      NOW,
    );
    for (const r of [fromQemu, fromLibvirt, fromFirstVersion]) {
      expect(r.ok, JSON.stringify(r)).toBe(true);
      if (!r.ok) return;
      expect(r.event.data.qemu).toEqual({
        recipient: "guest",
        action: "inject",
        flags: { actionRequired: true, recursive: false },
      });
      expect(r.event.data.actions).toEqual(["mce_injected"]);
    }
  });

  it.each([
    [0, "hypervisor", 0, "ignore", 0, false, false],
    [1, "guest", 2, "fatal", 1, true, false],
    [1, "guest", 3, "reset", 2, false, true],
    [0, "hypervisor", 2, "fatal", 3, true, true],
  ])(
    "maps libvirt recipient %i, action %i, flags %i",
    (r, recipient, a, action, f, actionRequired, recursive) => {
      const p = parseCloudEvent(
        armEvent(
          {},
          { ...qemuData, qemu: { recipient: r, action: a, flags: f } },
        ),
        NOW,
      );
      expect(p.ok && p.event.data.qemu).toEqual({
        recipient,
        action,
        flags: { actionRequired, recursive },
      });
    },
  );

  it.each([
    ["inject", "x86_64", [], ["mce_injected"]],
    ["inject", "arm64", undefined, ["sea_injected"]],
    ["fatal", "x86_64", undefined, ["vm_stopped"]],
    ["reset", "x86_64", undefined, ["vm_reset"]],
    ["ignore", "x86_64", undefined, ["none"]],
    ["inject", "x86_64", ["page_unmapped"], ["page_unmapped", "mce_injected"]],
    ["fatal", "x86_64", ["vm_stopped"], ["vm_stopped"]],
    ["ignore", "x86_64", ["page_unmapped"], ["page_unmapped"]],
  ])(
    "takes QEMU's action %s on %s with the agent's actions %j as %j",
    (action, arch, actions, expected) => {
      const qemu = {
        recipient: "guest",
        action,
        flags: { "action-required": true, recursive: false },
      };
      const p = parseCloudEvent(
        armEvent({}, { ...qemuData, arch, qemu, actions }),
        NOW,
      );
      expect(p.ok && p.event.data.actions).toEqual(expected);
    },
  );

  it("parses sigbus and qemu events on either architecture", () => {
    for (const data of [sigbusData, qemuData]) {
      for (const arch of ["x86_64", "arm64"]) {
        const r = parseCloudEvent(armEvent({}, { ...data, arch }), NOW);
        expect(r.ok, JSON.stringify(r)).toBe(true);
      }
    }
  });

  it("applies defaults: guestMode unknown, actions [], no vcpu", () => {
    const ev = armEvent();
    const { guestMode: _g, actions: _a, vcpu: _v, ...data } = ev.data;
    const r = parseCloudEvent({ ...ev, data }, NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.event.data.guestMode).toBe("unknown");
    expect(r.event.data.actions).toEqual([]);
    expect(r.event.data.vcpu).toBeUndefined();
  });

  it("accepts and drops unknown top-level extension attributes", () => {
    const r = parseCloudEvent(
      armEvent({
        traceparent: "00-abc-def-01",
        partitionkey: "x",
        dataschema: "https://x/y",
      }),
      NOW,
    );
    expect(r.ok).toBe(true);
  });

  it("treats datacontenttype as optional", () => {
    const { datacontenttype: _d, ...ev } = armEvent();
    expect(parseCloudEvent(ev, NOW).ok).toBe(true);
    expect(paths(armEvent({ datacontenttype: "text/plain" }))).toEqual([
      "datacontenttype",
    ]);
  });

  it("accepts a sigbus block without gpa and addrLsb at both bounds", () => {
    for (const addrLsb of [12, 40]) {
      const r = parseCloudEvent(
        armEvent(
          {},
          { ...sigbusData, sigbus: { code: "BUS_MCEERR_AO", addrLsb } },
        ),
        NOW,
      );
      expect(r.ok).toBe(true);
    }
  });
});

describe("parseCloudEvent: time", () => {
  it.each([
    ["2025-11-20T12:15:00+02:00", "2025-11-20T10:15:00.000Z"],
    ["2025-11-20T05:45:00-04:30", "2025-11-20T10:15:00.000Z"],
    ["2025-11-20T10:15:00.123456789Z", "2025-11-20T10:15:00.123Z"],
    ["2025-11-20t10:15:00z", "2025-11-20T10:15:00.000Z"],
    ["2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
  ])("accepts %s", (time, iso) => {
    const r = parseCloudEvent(
      armEvent({ time }),
      new Date(Date.parse(iso) + 60_000),
    );
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.event.time.toISOString()).toBe(iso);
  });

  it.each([
    "2025-11-20T10:15:00",
    "2025-11-20 10:15:00Z",
    "2025-11-20T10:15Z",
    "2025-11-20T10:15:00+0200",
    "2025-02-29T00:00:00Z",
    "2025-13-01T00:00:00Z",
    "2025-11-20T24:00:00Z",
    "2025-11-20T10:15:00+24:00",
    "1732097700",
    "",
  ])("rejects %j", (time) => {
    expect(paths(armEvent({ time }))).toEqual(["time"]);
  });

  it("rejects a time more than 5 minutes after now, and accepts exactly 5 minutes", () => {
    const now = new Date("2025-11-20T10:15:00.000Z");
    expect(
      parseCloudEvent(armEvent({ time: "2025-11-20T10:20:00.000Z" }), now).ok,
    ).toBe(true);
    const r = parseCloudEvent(
      armEvent({ time: "2025-11-20T10:20:00.001Z" }),
      now,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.details).toEqual([
        { path: "time", message: "is more than 5 minutes in the future" },
      ]);
      expect(r.message).toContain("time");
    }
  });

  it("rejects an event more than 7 days before its receipt, takes one at 7 days, and leaves a stored event's age alone", () => {
    const sevenDays = new Date(NOW.getTime() - 7 * 86400_000).toISOString();
    expect(parseCloudEvent(armEvent({ time: sevenDays }), NOW).ok).toBe(true);
    const older = new Date(NOW.getTime() - 7 * 86400_000 - 1).toISOString();
    expect(paths(armEvent({ time: older }))).toEqual(["time"]);
    expect(paths(armEvent({ time: "2001-01-01T00:00:00Z" }))).toEqual(["time"]);
    expect(
      parseCloudEvent(armEvent({ time: "2001-01-01T00:00:00Z" }), null).ok,
    ).toBe(true);
  });

  it("parseRfc3339 handles leap seconds and rejects impossible dates", () => {
    expect(parseRfc3339("2016-12-31T23:59:60Z")).toBe(Date.UTC(2017, 0, 1));
    expect(parseRfc3339("2023-04-31T00:00:00Z")).toBeNull();
  });
});

describe("parseCloudEvent: envelope", () => {
  it.each([
    [{ specversion: "0.3" }, "specversion"],
    [{ specversion: 1 }, "specversion"],
    [{ type: "vmm.memory_error.v2" }, "type"],
    [{ id: "" }, "id"],
    [{ id: "x".repeat(257) }, "id"],
    [{ id: 42 }, "id"],
    [{ source: "host-a17" }, "source"],
    [{ source: "/hosts/host-b2" }, "source"],
    [{ subject: "vm-other" }, "subject"],
    [{ subject: undefined }, "subject"],
    [{ data: undefined }, "data"],
  ])("rejects %j at %s", (over, path) => {
    expect(paths(armEvent(over))).toContain(path);
  });

  it("accepts an id of exactly 256 characters", () => {
    expect(parseCloudEvent(armEvent({ id: "x".repeat(256) }), NOW).ok).toBe(
      true,
    );
  });

  it.each([null, "event", 42, [], [armEvent()]])(
    "rejects a non-object %j",
    (raw) => {
      const r = parseCloudEvent(raw, NOW);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/^Invalid event/);
    },
  );
});

describe("parseCloudEvent: data", () => {
  it("requires the block that mechanism names", () => {
    expect(paths(armEvent({}, { armSea: undefined }))).toEqual(["data.armSea"]);
    expect(paths(armEvent({}, { ...sigbusData, sigbus: undefined }))).toEqual([
      "data.sigbus",
    ]);
    expect(paths(armEvent({}, { ...qemuData, qemu: undefined }))).toEqual([
      "data.qemu",
    ]);
  });

  it("rejects the blocks that mechanism does not name, each at its path", () => {
    const r = parseCloudEvent(
      armEvent({}, { sigbus: sigbusData.sigbus, qemu: qemuData.qemu }),
      NOW,
    );
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.details).toEqual([
        {
          path: "data.sigbus",
          message: "must be absent when mechanism is kvm_exit_arm_sea",
        },
        {
          path: "data.qemu",
          message: "must be absent when mechanism is kvm_exit_arm_sea",
        },
      ]);
      expect(r.message).toBe(
        "Invalid event: data.sigbus: must be absent when mechanism is kvm_exit_arm_sea (and 1 more)",
      );
    }
  });

  it("allows kvm_exit_arm_sea only on arm64", () => {
    expect(paths(armEvent({}, { arch: "x86_64" }))).toEqual(["data.arch"]);
  });

  it.each([
    [{ esr: "92000010" }, "data.armSea.esr"],
    [{ esr: "0x" }, "data.armSea.esr"],
    [{ esr: 0x92000010 }, "data.armSea.esr"],
    [{ gva: "0x10000000000000000" }, "data.armSea.gva"],
    [{ gpa: "0xg" }, "data.armSea.gpa"],
    [{ flags: -1 }, "data.armSea.flags"],
    [{ flags: 1.5 }, "data.armSea.flags"],
    [{ extra: 1 }, "data.armSea"],
  ])("rejects armSea %j at %s", (patch, path) => {
    const ev = armEvent();
    expect(
      paths(armEvent({}, { armSea: { ...ev.data.armSea, ...patch } })),
    ).toEqual([path]);
  });

  it("requires all four KVM_EXIT_ARM_SEA fields", () => {
    for (const field of ["flags", "esr", "gva", "gpa"]) {
      const armSea: Record<string, unknown> = { ...armEvent().data.armSea };
      delete armSea[field];
      expect(paths(armEvent({}, { armSea }))).toEqual([`data.armSea.${field}`]);
    }
  });

  it.each([
    [{ code: "BUS_MCEERR_XX", addrLsb: 12 }, "data.sigbus.code"],
    [{ code: "BUS_MCEERR_AR", addrLsb: 11 }, "data.sigbus.addrLsb"],
    [{ code: "BUS_MCEERR_AR", addrLsb: 41 }, "data.sigbus.addrLsb"],
    [
      { code: "BUS_MCEERR_AR", addrLsb: 12, gpa: "b7a41000" },
      "data.sigbus.gpa",
    ],
  ])("rejects sigbus %j at %s", (sigbus, path) => {
    expect(paths(armEvent({}, { ...sigbusData, sigbus }))).toEqual([path]);
  });

  it.each([
    [{ recipient: "host" }, "data.qemu.recipient"],
    [{ action: "panic" }, "data.qemu.action"],
    [{ flags: { "action-required": true } }, "data.qemu.flags"],
    [{ flags: { action_required: true, recursive: false } }, "data.qemu.flags"],
    [{ flags: { "action-required": 1, recursive: false } }, "data.qemu.flags"],
  ])("rejects qemu %j at %s", (patch, path) => {
    expect(
      paths(
        armEvent({}, { ...qemuData, qemu: { ...qemuData.qemu, ...patch } }),
      ),
    ).toEqual([path]);
  });

  it.each([
    [
      { recipient: 2, action: 1, flags: 1 },
      "data.qemu.recipient",
      "0 (hypervisor) or 1 (guest)",
    ],
    [
      { recipient: -1, action: 1, flags: 1 },
      "data.qemu.recipient",
      "0 (hypervisor) or 1 (guest)",
    ],
    [
      { recipient: 1, action: 4, flags: 1 },
      "data.qemu.action",
      "0 (ignore) to 3 (reset)",
    ],
    [
      { recipient: 1, action: 1.5, flags: 1 },
      "data.qemu.action",
      "0 (ignore) to 3 (reset)",
    ],
    [{ recipient: 1, action: 1, flags: 4 }, "data.qemu.flags", "bitmask 0-3"],
    [{ recipient: 1, action: 1, flags: -1 }, "data.qemu.flags", "bitmask 0-3"],
    [{ recipient: 1, action: "inject", flags: 1 }, "data.qemu", "not a mix"],
  ])(
    "rejects libvirt's out-of-range %j at %s with the reason",
    (qemu, path, reason) => {
      const r = parseCloudEvent(armEvent({}, { ...qemuData, qemu }), NOW);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.details).toEqual([
        { path, message: expect.stringContaining(reason) },
      ]);
      expect(r.message).toContain(reason);
    },
  );

  it.each([
    [{ vmId: "-vm" }, "data.vmId"],
    [{ vmId: "v".repeat(129) }, "data.vmId"],
    [{ hostId: "host a17" }, "data.hostId"],
    [{ vcpu: -1 }, "data.vcpu"],
    [{ vcpu: 4096 }, "data.vcpu"],
    [{ vcpu: 3_000_000_000 }, "data.vcpu"],
    [{ vcpu: "3" }, "data.vcpu"],
    [{ arch: "riscv64" }, "data.arch"],
    [{ mechanism: "mce" }, "data.mechanism"],
    [{ guestMode: "hypervisor" }, "data.guestMode"],
    [{ actions: ["sea_injected", "rebooted"] }, "data.actions.1"],
    [{ actions: "sea_injected" }, "data.actions"],
    [{ guest_mode: "kernel" }, "data"],
  ])("rejects data %j at %s", (patch, path) => {
    expect(paths(armEvent({}, patch))).toContain(path);
  });

  it("accepts ids at the pattern's limits", () => {
    const id = `A${"x".repeat(127)}`;
    const r = parseCloudEvent(armEvent({ subject: id }, { vmId: id }), NOW);
    expect(r.ok).toBe(true);
  });
});

describe("eventIdOf", () => {
  it("returns the raw id only when it is a string", () => {
    expect(eventIdOf({ id: "abc" })).toBe("abc");
    expect(eventIdOf({ id: "" })).toBe("");
    expect(eventIdOf({ id: 7 })).toBeNull();
    expect(eventIdOf({})).toBeNull();
    expect(eventIdOf(null)).toBeNull();
    expect(eventIdOf("abc")).toBeNull();
    expect(eventIdOf([{ id: "abc" }])).toBeNull();
  });
});

describe("JSON Schema for OpenAPI", () => {
  it("converts the envelope for input without throwing, keeping the contract visible", () => {
    const js = z.toJSONSchema(CloudEvent, { io: "input" }) as {
      required: string[];
      properties: Record<
        string,
        { properties?: Record<string, unknown>; required?: string[] }
      >;
    };
    expect(js.required).toEqual(
      expect.arrayContaining([
        "specversion",
        "id",
        "source",
        "type",
        "time",
        "subject",
        "data",
      ]),
    );
    expect(js.required).not.toContain("datacontenttype");
    const data = js.properties.data!;
    expect(Object.keys(data.properties!)).toEqual(
      expect.arrayContaining([
        "vmId",
        "hostId",
        "vcpu",
        "arch",
        "mechanism",
        "armSea",
        "sigbus",
        "qemu",
        "guestMode",
        "actions",
      ]),
    );
    expect(data.required).not.toContain("guestMode");
    expect(data.required).not.toContain("actions");
  });

  it("converts the data schema for output too", () => {
    expect(() =>
      z.toJSONSchema(MemoryErrorData, { io: "output" }),
    ).not.toThrow();
    expect(() => z.toJSONSchema(CloudEvent, { io: "output" })).not.toThrow();
  });
});
