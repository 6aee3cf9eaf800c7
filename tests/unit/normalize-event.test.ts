import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeEsr } from "@/server/ingest/decode-esr";
import {
  parseMemoryErrorData,
  VMM_ACTIONS,
} from "@/server/ingest/event-schema";
import { normalizeEvent } from "@/server/ingest/normalize-event";

const base = { vmId: "vm-3f9c2a", hostId: "host-a17", vcpu: 3 };

function arm(
  armSea: Partial<{
    flags: number;
    esr: string;
    gva: string;
    gpa: string;
  }> = {},
  extra: Record<string, unknown> = {},
) {
  return parseMemoryErrorData({
    ...base,
    arch: "arm64",
    mechanism: "kvm_exit_arm_sea",
    armSea: {
      flags: 1,
      esr: "0x0000000092000010",
      gva: "0x0000ffff9a2b3c40",
      gpa: "0x00000001234f8000",
      ...armSea,
    },
    guestMode: "user",
    actions: ["sea_injected", "page_unmapped"],
    ...extra,
  });
}

function sigbus(
  sig: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  return parseMemoryErrorData({
    ...base,
    arch: "x86_64",
    mechanism: "sigbus",
    sigbus: sig,
    ...extra,
  });
}

function qemu(
  q: { action: string; actionRequired: boolean; recipient?: string },
  extra: Record<string, unknown> = {},
) {
  return parseMemoryErrorData({
    ...base,
    arch: "x86_64",
    mechanism: "qemu_memory_failure",
    qemu: {
      recipient: q.recipient ?? "guest",
      action: q.action,
      flags: { "action-required": q.actionRequired, recursive: false },
    },
    ...extra,
  });
}

describe("normalizeEvent: KVM_EXIT_ARM_SEA", () => {
  it("normalises the spec's example", () => {
    const n = normalizeEvent(arm(), "web-1");
    expect(n).toEqual({
      severity: "CRITICAL",
      consumed: true,
      gpa: "0x00000001234f8000",
      gva: "0x0000ffff9a2b3c40",
      pageSize: 4096,
      pageKey: "0x00000001234f8000",
      esr: decodeEsr("0x0000000092000010", { from: "kvm_exit_arm_sea" }),
      eventPlaybook: "user-process-memory-error",
      guestKernel: false,
      message:
        "An uncorrectable memory error was consumed by a user process in VM web-1. " +
        "The platform delivered the error to the guest, which ends only the affected process, and unmapped the poisoned page.",
    });
  });

  it("has no address at all for the tester's sample (flags 0, FnV 1): its own distinct error", () => {
    const n = normalizeEvent(
      arm({ flags: 0, esr: "0x92000610", gva: "0x0", gpa: "0x0" }),
      "web-1",
    );
    expect([n.gpa, n.gva, n.pageSize, n.pageKey]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(n.esr?.fnv).toBe(1);
    expect(n.severity).toBe("CRITICAL");
  });

  it("keeps gva without gpa when FnV = 0 and the GPA-valid flag is clear", () => {
    const n = normalizeEvent(arm({ flags: 0 }), "web-1");
    expect(n.gva).toBe("0x0000ffff9a2b3c40");
    expect([n.gpa, n.pageSize, n.pageKey]).toEqual([null, null, null]);
  });

  it("clears gva's top byte (a tag, UNKNOWN for an SEA) as Linux's do_sea does", () => {
    expect(normalizeEvent(arm({ gva: "0x5a00ffff9a2b3c40" }), "w").gva).toBe(
      "0x0000ffff9a2b3c40",
    );
    expect(normalizeEvent(arm({ gva: "0xff7fffff9a2b3c40" }), "w").gva).toBe(
      "0x007fffff9a2b3c40",
    );
    // bit 55 set (a TTBR1 address): untagged_addr keeps it as it is
    expect(normalizeEvent(arm({ gva: "0xff80000012345678" }), "w").gva).toBe(
      "0xff80000012345678",
    );
  });

  it("marks the ESR bits KVM masked out of the exit as not reported", () => {
    const n = normalizeEvent(arm({ esr: "0x0000000092000090" }), "w"); // S1PTW bit set: masked by KVM, not a fact
    expect(n.esr).toMatchObject({ s1ptw: null, set: null, errorState: null });
    expect(n.esr?.notReported).toEqual(
      expect.arrayContaining([
        "isv",
        "sas",
        "sse",
        "srt",
        "sf",
        "ar",
        "vncr",
        "s1ptw",
        "set",
      ]),
    );
  });

  it("drops gva when FnV = 1 even though the GPA is valid", () => {
    const n = normalizeEvent(arm({ esr: "0x92000410" }), "web-1");
    expect(n.gva).toBeNull();
    expect(n.gpa).toBe("0x00000001234f8000");
  });

  it("reads only bit 0 of flags", () => {
    expect(normalizeEvent(arm({ flags: 2 }), "w").gpa).toBeNull();
    expect(normalizeEvent(arm({ flags: 3 }), "w").gpa).toBe(
      "0x00000001234f8000",
    );
  });

  it("normalises short and upper-case hex, and rounds the page key down to 4 KiB", () => {
    const n = normalizeEvent(
      arm({ gpa: "0X1234F8ABC", gva: "0xFFFF9A2B3C40" }),
      "w",
    );
    expect(n.gpa).toBe("0x00000001234f8abc");
    expect(n.gva).toBe("0x0000ffff9a2b3c40");
    expect(n.pageKey).toBe("0x00000001234f8000");
  });

  it("is a guest-kernel error when the vCPU was in the kernel", () => {
    const n = normalizeEvent(arm({}, { guestMode: "kernel" }), "db-2");
    expect(n.eventPlaybook).toBe("guest-kernel-memory-error");
    expect(n.guestKernel).toBe(true);
    expect(n.message).toBe(
      "An uncorrectable memory error was consumed by the guest kernel of VM db-2. " +
        "The platform delivered the error to the guest kernel, which may have to restart the guest, and unmapped the poisoned page.",
    );
  });

  it("is user-process when the guest mode is unknown", () => {
    const n = normalizeEvent(
      arm({}, { guestMode: undefined, actions: ["sea_injected"] }),
      "w",
    );
    expect(n.eventPlaybook).toBe("user-process-memory-error");
    expect(n.guestKernel).toBe(false);
    expect(n.message).toBe(
      "An uncorrectable memory error was consumed in VM w. The platform delivered the error to the guest so that its kernel can end the affected process.",
    );
  });

  it("describes a fall-back SError injection and a stopped VM", () => {
    const n = normalizeEvent(
      arm({}, { actions: ["serror_injected", "vm_stopped"] }),
      "w",
    );
    expect(n.eventPlaybook).toBe("vm-restarted");
    expect(n.message).toBe(
      "An uncorrectable memory error was consumed by a user process in VM w. " +
        "The platform signalled an asynchronous error to the guest, which usually makes the guest crash, and stopped the VM.",
    );
  });
});

describe("normalizeEvent: SIGBUS", () => {
  it("treats BUS_MCEERR_AR as consumed, with the page size from addrLsb", () => {
    const n = normalizeEvent(
      sigbus(
        { code: "BUS_MCEERR_AR", addrLsb: 21, gpa: "0x00000000b7a41000" },
        { guestMode: "user", actions: ["mce_injected"] },
      ),
      "web-1",
    );
    expect(n).toMatchObject({
      severity: "CRITICAL",
      consumed: true,
      gpa: "0x00000000b7a41000",
      gva: null,
      pageSize: 2 * 1024 * 1024,
      pageKey: "0x00000000b7a00000",
      esr: null,
      eventPlaybook: "user-process-memory-error",
      guestKernel: false,
    });
    expect(n.message).toBe(
      "An uncorrectable memory error was consumed by a user process in VM web-1. " +
        "The platform delivered the error to the guest, which ends only the affected process.",
    );
  });

  it("treats BUS_MCEERR_AO as a latent error", () => {
    const n = normalizeEvent(
      sigbus(
        { code: "BUS_MCEERR_AO", addrLsb: 12, gpa: "0xb7a41000" },
        { guestMode: "kernel" },
      ),
      "web-1",
    );
    expect(n).toMatchObject({
      severity: "WARNING",
      consumed: false,
      gpa: "0x00000000b7a41000",
      pageSize: 4096,
      pageKey: "0x00000000b7a41000",
      eventPlaybook: "latent-memory-error",
      guestKernel: false,
    });
    expect(n.message).toBe(
      "An uncorrectable memory error was found in the memory of VM web-1 before any program used it. The platform recorded the error.",
    );
  });

  it("has a page size but no page key without a gpa", () => {
    const n = normalizeEvent(
      sigbus({ code: "BUS_MCEERR_AR", addrLsb: 12 }),
      "w",
    );
    expect([n.gpa, n.pageSize, n.pageKey]).toEqual([null, 4096, null]);
  });

  it("mentions reporting to the guest for an injected latent error", () => {
    const n = normalizeEvent(
      sigbus(
        { code: "BUS_MCEERR_AO", addrLsb: 12 },
        { actions: ["mce_injected", "page_unmapped"] },
      ),
      "w",
    );
    expect(n.message).toBe(
      "An uncorrectable memory error was found in the memory of VM w before any program used it. " +
        "The platform reported the error to the guest so that it can stop using the page and unmapped the poisoned page.",
    );
  });
});

describe("normalizeEvent: QEMU MEMORY_FAILURE", () => {
  it("is consumed with actionRequired and has no address", () => {
    const n = normalizeEvent(
      qemu({ action: "inject", actionRequired: true }, { guestMode: "user" }),
      "w",
    );
    expect(n).toMatchObject({
      severity: "CRITICAL",
      consumed: true,
      gpa: null,
      gva: null,
      pageSize: null,
      pageKey: null,
      esr: null,
    });
    expect(n.eventPlaybook).toBe("user-process-memory-error");
    expect(n.message).toContain(
      "delivered the error to the guest, which ends only the affected process",
    );
  });

  it("is a warning without actionRequired", () => {
    const n = normalizeEvent(
      qemu({ action: "ignore", actionRequired: false }),
      "w",
    );
    expect(n.severity).toBe("WARNING");
    expect(n.eventPlaybook).toBe("latent-memory-error");
  });

  it.each([
    ["fatal", "stopped the VM"],
    ["reset", "reset the VM"],
  ])("is vm-restarted for action %s", (action, phrase) => {
    const n = normalizeEvent(
      qemu({ action, actionRequired: true }, { guestMode: "kernel" }),
      "w",
    );
    expect(n.eventPlaybook).toBe("vm-restarted");
    expect(n.guestKernel).toBe(true);
    expect(n.message).toContain(phrase);
    expect(n.message).not.toContain("delivered");
  });
});

describe("normalizeEvent: what QEMU did, as the tenant reads it", () => {
  // the agent sent no actions: QEMU's action is what the VMM did
  it.each([
    [
      "inject",
      true,
      ["mce_injected"],
      "user-process-memory-error",
      "An uncorrectable memory error was consumed in VM w. The platform delivered the error to the guest so that its kernel can end the affected process.",
    ],
    [
      "inject",
      false,
      ["mce_injected"],
      "latent-memory-error",
      "An uncorrectable memory error was found in the memory of VM w before any program used it. The platform reported the error to the guest so that it can stop using the page.",
    ],
    [
      "fatal",
      true,
      ["vm_stopped"],
      "vm-restarted",
      "An uncorrectable memory error was consumed in VM w. The platform stopped the VM.",
    ],
    [
      "reset",
      true,
      ["vm_reset"],
      "vm-restarted",
      "An uncorrectable memory error was consumed in VM w. The platform reset the VM.",
    ],
    [
      "ignore",
      false,
      ["none"],
      "latent-memory-error",
      "An uncorrectable memory error was found in the memory of VM w before any program used it. The platform recorded the error and took no action on the VM.",
    ],
  ])(
    "action %s (action-required %s) → actions %j, %s",
    (action, actionRequired, actions, playbook, message) => {
      const d = qemu({
        action: action as string,
        actionRequired: actionRequired as boolean,
      });
      expect(d.actions).toEqual(actions);
      const n = normalizeEvent(d, "w");
      expect(n.eventPlaybook).toBe(playbook);
      expect(n.message).toBe(message);
    },
  );

  it("takes inject on arm64 as an injected SEA", () => {
    expect(
      qemu({ action: "inject", actionRequired: true }, { arch: "arm64" })
        .actions,
    ).toEqual(["sea_injected"]);
  });

  it.each([
    [
      "fatal",
      true,
      "vm-restarted",
      "An uncorrectable memory error was consumed by the hypervisor in its own memory for VM w, not in the VM's memory. The platform stopped the VM.",
    ],
    [
      "ignore",
      false,
      "latent-memory-error",
      "An uncorrectable memory error was found in the hypervisor's own memory for VM w, not in the VM's memory. The platform recorded the error and took no action on the VM.",
    ],
  ])(
    "tells recipient hypervisor (QEMU's own memory) as such: %s",
    (action, actionRequired, playbook, message) => {
      const n = normalizeEvent(
        qemu(
          {
            recipient: "hypervisor",
            action: action as string,
            actionRequired: actionRequired as boolean,
          },
          { guestMode: "kernel" },
        ),
        "w",
      );
      expect(n.message).toBe(message);
      expect(n.message).not.toContain("in the memory of VM");
      expect(n.eventPlaybook).toBe(playbook);
      expect(n.guestKernel).toBe(false);
    },
  );
});

describe("normalizeEvent: playbook precedence", () => {
  it("prefers vm-restarted over latent, guest-kernel and user-process", () => {
    for (const action of ["vm_stopped", "vm_reset"]) {
      expect(
        normalizeEvent(
          sigbus({ code: "BUS_MCEERR_AO", addrLsb: 12 }, { actions: [action] }),
          "w",
        ).eventPlaybook,
      ).toBe("vm-restarted");
      expect(
        normalizeEvent(arm({}, { guestMode: "kernel", actions: [action] }), "w")
          .eventPlaybook,
      ).toBe("vm-restarted");
    }
    expect(
      normalizeEvent(arm({}, { actions: ["vm_stopped", "vm_reset"] }), "w")
        .message,
    ).toMatch(/reset the VM\.$/);
  });

  it("prefers latent over guest-kernel", () => {
    expect(
      normalizeEvent(
        qemu(
          { action: "inject", actionRequired: false },
          { guestMode: "kernel" },
        ),
        "w",
      ).eventPlaybook,
    ).toBe("latent-memory-error");
  });
});

describe("normalizeEvent: tenant message", () => {
  const hexU64 = fc
    .bigInt({ min: 0n, max: (1n << 64n) - 1n })
    .map((v) => `0x${v.toString(16)}`);
  const data = fc.oneof(
    fc.record({
      mechanism: fc.constant("kvm_exit_arm_sea"),
      arch: fc.constant("arm64"),
      armSea: fc.record({
        flags: fc.nat(3),
        esr: hexU64,
        gva: hexU64,
        gpa: hexU64,
      }),
    }),
    fc.record({
      mechanism: fc.constant("sigbus"),
      arch: fc.constantFrom("arm64", "x86_64"),
      sigbus: fc.record(
        {
          code: fc.constantFrom("BUS_MCEERR_AR", "BUS_MCEERR_AO"),
          addrLsb: fc.integer({ min: 12, max: 40 }),
          gpa: hexU64,
        },
        { requiredKeys: ["code", "addrLsb"] },
      ),
    }),
    fc.record({
      mechanism: fc.constant("qemu_memory_failure"),
      arch: fc.constantFrom("arm64", "x86_64"),
      qemu: fc.oneof(
        fc.record({
          recipient: fc.constantFrom("hypervisor", "guest"),
          action: fc.constantFrom("ignore", "inject", "fatal", "reset"),
          flags: fc.record({
            "action-required": fc.boolean(),
            recursive: fc.boolean(),
          }),
        }),
        fc.record({
          recipient: fc.nat(1),
          action: fc.nat(3),
          flags: fc.nat(3),
        }),
      ),
    }),
  );

  it("names the VM, is one or two sentences, and never shows host ids or addresses", () => {
    fc.assert(
      fc.property(
        data,
        fc.constantFrom("user", "kernel", "unknown"),
        fc.subarray([...VMM_ACTIONS]),
        (d, guestMode, actions) => {
          const parsed = parseMemoryErrorData({
            vmId: "vm-1",
            hostId: "host-secret-7",
            ...d,
            guestMode,
            actions,
          });
          const n = normalizeEvent(parsed, "web-1");
          expect(n.message).toContain("VM web-1");
          expect(n.message).not.toContain("host-secret-7");
          expect(n.message).not.toMatch(/0x[0-9a-f]/i);
          expect(n.message.split(/(?<=\.) /).length).toBeLessThanOrEqual(2);
          expect(n.message.endsWith(".")).toBe(true);
          expect(n.severity).toBe(n.consumed ? "CRITICAL" : "WARNING");
          if (n.pageKey !== null) {
            expect(n.pageKey).toMatch(/^0x[0-9a-f]{16}$/);
            expect(BigInt(n.pageKey) % BigInt(n.pageSize!)).toBe(0n);
            expect(BigInt(n.gpa!) - BigInt(n.pageKey)).toBeLessThan(
              BigInt(n.pageSize!),
            );
          }
          expect(n.esr === null).toBe(d.mechanism !== "kvm_exit_arm_sea");
          expect(n.guestKernel).toBe(
            n.consumed &&
              guestMode === "kernel" &&
              parsed.qemu?.recipient !== "hypervisor",
          );
        },
      ),
    );
  });
});
