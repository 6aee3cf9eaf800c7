import { describe, expect, it } from "vitest";
import {
  PLAYBOOK_KEYS,
  choosePlaybookKey,
  fillPlaybook,
  getPlaybookMeta,
  isPlaybookKey,
} from "@/server/playbooks/catalog";
import type { PlaybookFacts, PlaybookKey } from "@/server/playbooks/catalog";

const base: PlaybookFacts = {
  vmId: "vm-7f3a",
  vmName: "web-1",
  projectId: "prj-shop",
  zone: "eu-west-1a",
  firstErrorAt: new Date("2025-10-13T18:59:03.123Z"),
  lastErrorAt: new Date("2025-10-13T19:04:10Z"),
  errorCount: 3,
  distinctPages: 2,
  threshold: 4,
  windowSeconds: 86_400,
  gpas: ["0x0000000012345000", "0x00000000abcde000"],
  actions: ["sea_injected", "page_unmapped"],
  guestMode: "user",
  mechanisms: ["kvm_exit_arm_sea"],
  hypervisorMemory: false,
  guestMemory: true,
  arch: "arm64",
  severity: "CRITICAL",
  evacuation: {
    status: "scheduled",
    scheduledFor: new Date("2025-10-13T21:00:00Z"),
  },
};

const variants: PlaybookFacts[] = [
  base,
  {
    ...base,
    arch: "x86_64",
    actions: ["mce_injected", "page_unmapped"],
    evacuation: null,
  },
  {
    ...base,
    gpas: [],
    actions: ["none"],
    severity: "WARNING",
    errorCount: 1,
    distinctPages: 1,
    evacuation: null,
  },
  {
    ...base,
    guestMode: "kernel",
    actions: ["serror_injected", "vm_reset"],
    evacuation: { status: "in_progress", scheduledFor: base.firstErrorAt },
  },
  {
    ...base,
    actions: ["vm_stopped"],
    gpas: ["unlocated:evt_01", "0x1000"],
    evacuation: null,
  },
];

function textOf(key: PlaybookKey, facts: PlaybookFacts): string {
  const p = fillPlaybook(key, facts);
  return p.steps.map((s) => `${s.title}\n${s.body}`).join("\n");
}

describe("playbook catalog", () => {
  it("has one entry per key, each with an integer version and a title", () => {
    expect(new Set(PLAYBOOK_KEYS).size).toBe(6);
    for (const key of PLAYBOOK_KEYS) {
      const meta = getPlaybookMeta(key);
      expect(meta.key).toBe(key);
      expect(Number.isInteger(meta.version)).toBe(true);
      expect(meta.version).toBeGreaterThanOrEqual(1);
      expect(meta.title.length).toBeGreaterThan(10);
    }
  });

  it("rejects unknown keys loudly", () => {
    expect(isPlaybookKey("vm-restarted")).toBe(true);
    expect(isPlaybookKey("reboot-everything")).toBe(false);
    expect(() => getPlaybookMeta("reboot-everything" as PlaybookKey)).toThrow(
      /Unknown playbook key/,
    );
  });

  it.each(PLAYBOOK_KEYS)(
    "%s fills for every kind of facts, as plain text",
    (key) => {
      for (const facts of variants) {
        const p = fillPlaybook(key, facts);
        expect(p).toMatchObject(getPlaybookMeta(key));
        expect(p.steps.length).toBeGreaterThanOrEqual(4);
        for (const s of p.steps) {
          expect(s.title.trim()).not.toBe("");
          expect(s.body.trim()).not.toBe("");
          expect(s.body).not.toMatch(/<\/?[a-z][^>]*>/i);
          expect(s.body).not.toMatch(/undefined|null|NaN|\[object/);
        }
      }
    },
  );

  it.each(PLAYBOOK_KEYS)("%s shows the incident's facts", (key) => {
    const text = textOf(key, base);
    for (const fact of [
      base.vmName,
      base.vmId,
      base.projectId,
      base.zone,
      "2025-10-13T18:59:03Z",
      "2025-10-13T19:04:10Z",
    ]) {
      expect(text).toContain(fact);
    }
    expect(text).toContain("3 errors on 2 distinct pages");
    expect(text).toContain("0x0000000012345000");
    expect(text).toContain("0x00000000abcde000");
    expect(text).toContain("4 distinct poisoned pages within 24 hours");
    expect(text).toMatch(/fail over/);
    expect(text).not.toMatch(/\d{2}:\d{2}:\d{2}\.\d{3}Z/);
  });

  it.each(PLAYBOOK_KEYS)("%s never leaks host identities", (key) => {
    const withHost = {
      ...base,
      hostId: "host-secret-42",
      hostPhysAddr: "0x000000ffdead0000",
    };
    const text = textOf(key, withHost);
    expect(text).not.toContain("host-secret-42");
    expect(text).not.toContain("0x000000ffdead0000");
    expect(text).not.toMatch(/host[ _-]?id|host physical|hostPfn|\bhpa\b/i);
  });

  it("tells the tenant how to find the killed process and check its data", () => {
    // an x86 guest that received the MCE runs its memory-failure handling and says so
    const text = textOf("user-process-memory-error", {
      ...base,
      arch: "x86_64",
      actions: ["mce_injected", "page_unmapped"],
      mechanisms: ["sigbus"],
    });
    expect(text).toContain(
      '$ sudo journalctl -k --since "2025-10-13 18:44:03 UTC"',
    );
    expect(text).toMatch(
      /\$ sudo dmesg -T \| grep -iE "memory failure\|hardware error\|mce\|external abort"/,
    );
    expect(text).toContain("Sending SIGBUS to");
    expect(text).toContain("recovery action for");
    expect(text).toContain(
      "guest-physical 0x0000000012345000 = page frame 0x12345",
    );
    expect(text).toContain("status=7/BUS");
    expect(text).toContain("pg_amcheck");
    expect(text).toMatch(/stop and start/i);
    expect(text).toMatch(/reboot can leave it on the same host/);
  });

  it("offers hard-offlining only for real guest-physical addresses, on Linux guests", () => {
    const text = textOf("user-process-memory-error", base);
    expect(text).toContain(
      "$ echo 0x0000000012345000 | sudo tee /sys/devices/system/memory/hard_offline_page",
    );
    expect(text).toContain("CONFIG_MEMORY_FAILURE");
    expect(
      textOf("user-process-memory-error", { ...base, gpas: [] }),
    ).not.toContain("hard_offline_page");
    const odd = textOf("repeated-memory-errors", {
      ...base,
      gpas: ["unlocated:evt_01", "0x1000", "0x1000"],
    });
    expect(odd).not.toContain("unlocated:evt_01");
    expect(odd.match(/echo 0x1000 \|/g)).toHaveLength(1);
  });

  it("lists pages that add up to the incident's page count: the rest as 'n more', errors without an address said", () => {
    // 14 distinct pages: 13 with an address (the first 12 passed in) and one error without one
    const gpas = Array.from(
      { length: 12 },
      (_, i) => `0x${(0x100000 + i).toString(16).padStart(13, "0")}000`,
    );
    const text = textOf("repeated-memory-errors", {
      ...base,
      distinctPages: 14,
      gpas,
      locatedPages: 13,
      pagesWithoutAddress: 1,
    });
    expect(text).toContain("on 14 distinct pages.");
    expect(text).toMatch(
      /Guest-physical pages: (0x[0-9a-f]{16}, ){9}0x[0-9a-f]{16} and 3 more\. One error had no address; it counts as a page of its own\./,
    );
    // without those counts (a caller that passes only addresses): the addresses alone
    expect(textOf("repeated-memory-errors", base)).toMatch(
      /Guest-physical pages: 0x0000000012345000, 0x00000000abcde000\.\n/,
    );
  });

  it("says what the platform did from the VMM's actions", () => {
    expect(textOf("user-process-memory-error", base)).toMatch(
      /synchronous external abort \(arm64\)[\s\S]*unmapped the poisoned memory/,
    );
    const x86 = textOf("user-process-memory-error", {
      ...base,
      arch: "x86_64",
      actions: ["mce_injected"],
    });
    expect(x86).toContain("machine-check exception (x86)");
    expect(x86).toContain(
      "mce: Uncorrected hardware memory error in user-access",
    );
    expect(
      textOf("latent-memory-error", { ...base, actions: ["none"] }),
    ).toContain("it took no action on the VM");
    expect(
      textOf("vm-restarted", { ...base, actions: ["vm_stopped"] }),
    ).toMatch(/hypervisor stopped the VM/);
    expect(textOf("vm-restarted", { ...base, actions: ["vm_reset"] })).toMatch(
      /reset \(hard-restarted\) the VM/,
    );
  });

  it("on arm64, after a replayed abort without an error record, does not say the guest stopped using the page", () => {
    // base: arm64, a KVM_EXIT_ARM_SEA replayed as a synchronous abort (no APEI/GHES record)
    const text = textOf("user-process-memory-error", base);
    expect(text).not.toMatch(/stopped using the page/);
    expect(text).toContain(
      "the guest kernel did not retire the page: it is still in use, and the next program that reads it is stopped too",
    );
    expect(text).toContain("The guest did not retire the page");
    expect(text).toContain(
      '$ sudo journalctl -k --since "2025-10-13 18:44:03 UTC" | grep -i "memory failure"',
    );
    expect(text).toContain(
      "postgres[4242]: unhandled exception: DABT (lower EL), ESR 0x0000000092000010, synchronous external abort",
    );
    expect(text).toContain(
      "$ echo 0x0000000012345000 | sudo tee /sys/devices/system/memory/hard_offline_page",
    );
    // no "Memory failure" example and no "recovery action" reading: the guest prints neither
    expect(text).not.toContain("Sending SIGBUS to");
    expect(text).not.toContain("recovery action for");
    const repeated = textOf("repeated-memory-errors", base);
    expect(repeated).toContain("The guest did not retire the page");
    expect(repeated).not.toContain("recovery action for");
    // without a known page the only remedy is a stop and start
    expect(
      textOf("user-process-memory-error", { ...base, gpas: [] }),
    ).toContain("stop and start the VM at a convenient time");
  });

  it("on arm64 after a SIGBUS, tells the tenant how to check whether the page was retired", () => {
    const text = textOf("user-process-memory-error", {
      ...base,
      mechanisms: ["sigbus"],
    });
    expect(text).not.toMatch(/stopped using the page/);
    expect(text).toContain(
      "Whether the guest also took the page out of service depends on whether it received a firmware error record",
    );
    expect(text).toContain("Check whether the guest retired the page");
    expect(text).toContain("If there is none, the page is still in service.");
    expect(text).toContain("recovery action for");
    // x86 with an injected MCE is unchanged
    const x86 = textOf("user-process-memory-error", {
      ...base,
      arch: "x86_64",
      actions: ["mce_injected"],
      mechanisms: ["sigbus"],
    });
    expect(x86).toContain("and stopped using the page");
    expect(x86).not.toContain("Check whether the guest retired the page");
  });

  describe("one playbook per QEMU action (MEMORY_FAILURE, actions as derived from QEMU's)", () => {
    const qemu: PlaybookFacts = {
      ...base,
      arch: "x86_64",
      mechanisms: ["qemu_memory_failure"],
      gpas: [],
      guestMode: "unknown",
      evacuation: null,
      errorCount: 1,
      distinctPages: 1,
    };
    const done = (key: PlaybookKey, f: PlaybookFacts) =>
      fillPlaybook(key, f).steps.find(
        (s) => s.title === "What the platform already did",
      )!.body;

    it("inject: the MCE injected into the guest is what the platform did", () => {
      const f = { ...qemu, actions: ["mce_injected"] };
      expect(done("user-process-memory-error", f)).toContain(
        "reported the error to the guest as a machine-check exception (x86)",
      );
      const latent = textOf("latent-memory-error", {
        ...f,
        severity: "WARNING",
      });
      // nothing read the page: the MCE is there for the guest to retire it, not to stop a process
      expect(latent).toContain(
        "machine-check exception (x86), so that the guest kernel can take the page out of service before anything reads it",
      );
      expect(latent).not.toContain("stop only the process");
      expect(latent).not.toContain("did not report this error");
      expect(latent).not.toContain("took no action");
      expect(latent).toContain(
        "The platform reported the error to the guest, so the guest kernel has probably retired the page",
      );
    });

    it("fatal: QEMU stopped the VM, and it is called a stop, not a reset", () => {
      const text = textOf("vm-restarted", { ...qemu, actions: ["vm_stopped"] });
      expect(text).toContain("so the hypervisor stopped the VM.");
      expect(text).not.toMatch(/reset|hard-restarted/);
      expect(text).toContain("If it is stopped, start it");
      expect(text).toContain("The guest operating system never saw the error");
    });

    it("reset: the VM was reset", () => {
      const text = textOf("vm-restarted", { ...qemu, actions: ["vm_reset"] });
      expect(text).toContain(
        "so the hypervisor reset (hard-restarted) the VM.",
      );
      expect(text).toContain("- reset the VM");
      expect(text).toContain("The VM has already restarted.");
    });

    it("ignore: nothing was done, and the guest was not told", () => {
      const text = textOf("latent-memory-error", {
        ...qemu,
        actions: ["none"],
        severity: "WARNING",
      });
      expect(text).toContain(
        "The platform recorded the error; it took no action on the VM.",
      );
      expect(text).toContain(
        "The platform did not report this error to the guest",
      );
    });

    it("recipient hypervisor: QEMU's own memory, told as such", () => {
      const hv = { ...qemu, hypervisorMemory: true, guestMemory: false };
      const latent = textOf("latent-memory-error", {
        ...hv,
        actions: ["none"],
        severity: "WARNING",
      });
      expect(latent).toContain(
        "memory that the hypervisor uses itself to run VM web-1, not in the VM's own memory",
      );
      expect(latent).not.toContain("belongs to VM web-1");
      expect(latent).not.toContain("journalctl -k");
      expect(latent).toContain("No guest-physical page was hit");
      const stopped = textOf("vm-restarted", {
        ...hv,
        actions: ["vm_stopped"],
      });
      expect(stopped).toContain(
        "The memory error hit memory that the hypervisor uses itself to run VM web-1, not the VM's own memory.",
      );
      expect(stopped).toContain("so it stopped the VM.");
      expect(stopped).not.toContain("could not be contained inside VM");
    });
  });

  it("explains an evacuation as a restart on a healthy host, not a live migration", () => {
    const text = textOf("evacuation-scheduled", base);
    expect(text).toContain(
      "At 2025-10-13T21:00:00Z the platform will stop VM web-1",
    );
    expect(text).toMatch(/not a live migration/);
    expect(text).toContain("Before 2025-10-13T21:00:00Z");
    const moving = textOf("evacuation-scheduled", {
      ...base,
      evacuation: { status: "in_progress", scheduledFor: base.firstErrorAt },
    });
    expect(moving).toMatch(/moving VM web-1 to a healthy host now/);
    expect(
      textOf("evacuation-scheduled", { ...base, evacuation: null }),
    ).toMatch(/time will be announced/);
  });
});

describe("choosePlaybookKey", () => {
  const active = [
    { status: "scheduled" as const },
    { status: "in_progress" as const },
  ];
  const inactive = [
    null,
    { status: "completed" as const },
    { status: "cancelled" as const },
  ];

  it("an active evacuation wins over everything", () => {
    for (const evacuation of active) {
      for (const eventPlaybook of PLAYBOOK_KEYS) {
        expect(
          choosePlaybookKey({ eventPlaybook, distinctPages: 9, evacuation }),
        ).toBe("evacuation-scheduled");
      }
    }
  });

  it("a restart or guest-kernel event wins over repeated errors", () => {
    for (const evacuation of inactive) {
      expect(
        choosePlaybookKey({
          eventPlaybook: "vm-restarted",
          distinctPages: 5,
          evacuation,
        }),
      ).toBe("vm-restarted");
      expect(
        choosePlaybookKey({
          eventPlaybook: "guest-kernel-memory-error",
          distinctPages: 5,
          evacuation,
        }),
      ).toBe("guest-kernel-memory-error");
    }
  });

  it("two or more distinct pages give repeated-memory-errors, else the event's playbook", () => {
    for (const evacuation of inactive) {
      for (const eventPlaybook of [
        "user-process-memory-error",
        "latent-memory-error",
      ] as const) {
        expect(
          choosePlaybookKey({ eventPlaybook, distinctPages: 2, evacuation }),
        ).toBe("repeated-memory-errors");
        expect(
          choosePlaybookKey({ eventPlaybook, distinctPages: 1, evacuation }),
        ).toBe(eventPlaybook);
        expect(
          choosePlaybookKey({ eventPlaybook, distinctPages: 0, evacuation }),
        ).toBe(eventPlaybook);
      }
    }
  });
});
