// The agent checks intake lines by hand (it carries no zod); the service's schema is the contract.
// Random lines near the valid ones must get the same verdict from both.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkIntakeLine, makeEvent } from "@/agent/event";
import { parseCloudEvent } from "@/server/ingest/event-schema";

const HOST = { hostId: "host-a17", arch: "x86_64" as const };
const NOW = Date.parse("2026-03-01T12:00:00Z");

const BASES: Record<string, unknown>[] = [
  {
    vmId: "vm-3f9c2a",
    arch: "arm64",
    mechanism: "kvm_exit_arm_sea",
    vcpu: 3,
    guestMode: "user",
    actions: ["sea_injected"],
    armSea: {
      flags: 1,
      esr: "0x0000000092000010",
      gva: "0x0000ffff9a2b3c40",
      gpa: "0x00000001234f8000",
    },
  },
  {
    vmId: "vm-1",
    hostId: "host-a17",
    arch: "x86_64",
    mechanism: "sigbus",
    sigbus: { code: "BUS_MCEERR_AR", addrLsb: 12, gpa: "0x00000000b7a41000" },
  },
  {
    vmId: "vm-2",
    mechanism: "sigbus",
    sigbus: { code: "BUS_MCEERR_AO", addrLsb: 21 },
  },
  {
    vmId: "vm-4",
    mechanism: "qemu_memory_failure",
    qemu: {
      recipient: "guest",
      action: "inject",
      flags: { "action-required": true, recursive: false },
    },
  },
  {
    vmId: "vm-5",
    arch: "arm64",
    mechanism: "qemu_memory_failure",
    actions: ["vm_reset"],
    qemu: { recipient: 1, action: 3, flags: 3 },
  },
];

// (no vcpu 4096: spec.md bounds vcpu to 0-4095 and the agent does; the service's schema has no
// upper bound yet)
const VALUES = [
  undefined,
  null,
  0,
  1,
  -1,
  12,
  40,
  41,
  4095,
  1.5,
  "",
  "x",
  "arm64",
  "x86_64",
  "sigbus",
  "kvm_exit_arm_sea",
  "qemu_memory_failure",
  "user",
  "kernel",
  "BUS_MCEERR_AR",
  "BUS_MCEERR_AO",
  "0x1",
  "0x00000000000000000",
  "0xZZ",
  "vm ok",
  "vm.ok_1-2",
  "host-a17",
  "host-b",
  true,
  [],
  ["none"],
  ["sea_injected", "page_unmapped"],
  ["bogus"],
  {},
  { flags: 0, esr: "0x0", gva: "0x0", gpa: "0x0" },
  { code: "BUS_MCEERR_AO", addrLsb: 30 },
  "2026-03-01T11:00:00Z",
  "hypervisor",
  "guest",
  "inject",
  "fatal",
  "ignore",
  2,
  3,
  4,
  { "action-required": false, recursive: true },
  { "action-required": true },
  { recipient: 0, action: 2, flags: 0 },
];
const KEYS = [
  "vmId",
  "hostId",
  "vcpu",
  "arch",
  "mechanism",
  "armSea",
  "sigbus",
  "guestMode",
  "actions",
  "other",
  "armSea.flags",
  "armSea.esr",
  "armSea.extra",
  "sigbus.code",
  "sigbus.addrLsb",
  "sigbus.gpa",
  "qemu",
  "qemu.recipient",
  "qemu.action",
  "qemu.flags",
  "qemu.extra",
];

function mutate(
  base: Record<string, unknown>,
  edits: [string, unknown][],
): Record<string, unknown> {
  const o = structuredClone(base);
  for (const [key, value] of edits) {
    const [a, b] = key.split(".") as [string, string | undefined];
    if (b) {
      const inner = o[a];
      if (inner && typeof inner === "object" && !Array.isArray(inner)) {
        if (value === undefined) delete (inner as Record<string, unknown>)[b];
        else (inner as Record<string, unknown>)[b] = value;
      }
    } else if (value === undefined) delete o[a];
    else o[a] = value;
  }
  return o;
}

// what the service says of the event the agent would make from this line
function serviceVerdict(line: Record<string, unknown>): boolean {
  const data = { ...line };
  data.hostId ??= HOST.hostId;
  data.arch ??= HOST.arch;
  const ev = makeEvent(HOST.hostId, data, new Date(NOW).toISOString());
  return parseCloudEvent(ev, new Date(NOW)).ok;
}

describe("intake checks agree with the service's schema", () => {
  it("on lines near the valid ones (fast-check)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...BASES),
        fc.array(
          fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES)),
          { maxLength: 3 },
        ),
        (base, edits) => {
          const line = mutate(base, edits);
          const agent = checkIntakeLine(line, HOST, NOW);
          expect({ line, agent: agent.ok }).toEqual({
            line,
            agent: serviceVerdict(line),
          });
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("the valid bases are valid to both", () => {
    for (const b of BASES) {
      expect(checkIntakeLine(b, HOST, NOW).ok).toBe(true);
      expect(serviceVerdict(b)).toBe(true);
    }
  });
});
