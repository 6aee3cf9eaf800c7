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
  openedAt: new Date("2025-10-13T18:59:03.123Z"),
  lastErrorAt: new Date("2025-10-13T19:04:10Z"),
  errorCount: 3,
  distinctPages: 2,
  threshold: 4,
  windowSeconds: 86_400,
  gpas: ["0x0000000012345000", "0x00000000abcde000"],
  actions: ["sea_injected", "page_unmapped"],
  guestMode: "user",
  arch: "arm64",
  severity: "CRITICAL",
  evacuation: { status: "scheduled", scheduledFor: new Date("2025-10-13T21:00:00Z") },
};

const variants: PlaybookFacts[] = [
  base,
  { ...base, arch: "x86_64", actions: ["mce_injected", "page_unmapped"], evacuation: null },
  { ...base, gpas: [], actions: ["none"], severity: "WARNING", errorCount: 1, distinctPages: 1, evacuation: null },
  { ...base, guestMode: "kernel", actions: ["serror_injected", "vm_reset"], evacuation: { status: "in_progress", scheduledFor: base.openedAt } },
  { ...base, actions: ["vm_stopped"], gpas: ["unlocated:evt_01", "0x1000"], evacuation: null },
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
    expect(() => getPlaybookMeta("reboot-everything" as PlaybookKey)).toThrow(/Unknown playbook key/);
  });

  it.each(PLAYBOOK_KEYS)("%s fills for every kind of facts, as plain text", (key) => {
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
  });

  it.each(PLAYBOOK_KEYS)("%s shows the incident's facts", (key) => {
    const text = textOf(key, base);
    for (const fact of [base.vmName, base.vmId, base.projectId, base.zone, "2025-10-13T18:59:03Z", "2025-10-13T19:04:10Z"]) {
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
    const withHost = { ...base, hostId: "host-secret-42", hostPhysAddr: "0x000000ffdead0000" };
    const text = textOf(key, withHost);
    expect(text).not.toContain("host-secret-42");
    expect(text).not.toContain("0x000000ffdead0000");
    expect(text).not.toMatch(/host[ _-]?id|host physical|hostPfn|\bhpa\b/i);
  });

  it("tells the tenant how to find the killed process and check its data", () => {
    const text = textOf("user-process-memory-error", base);
    expect(text).toContain('$ sudo journalctl -k --since "2025-10-13 18:44:03 UTC"');
    expect(text).toMatch(/\$ sudo dmesg -T \| grep -iE "memory failure\|hardware error\|mce\|external abort"/);
    expect(text).toContain("Sending SIGBUS to");
    expect(text).toContain("recovery action for");
    expect(text).toContain("guest-physical 0x0000000012345000 = page frame 0x12345");
    expect(text).toContain("status=7/BUS");
    expect(text).toContain("pg_amcheck");
    expect(text).toMatch(/stop and start/i);
    expect(text).toMatch(/reboot can leave it on the same host/);
  });

  it("offers hard-offlining only for real guest-physical addresses, on Linux guests", () => {
    const text = textOf("user-process-memory-error", base);
    expect(text).toContain("$ echo 0x0000000012345000 | sudo tee /sys/devices/system/memory/hard_offline_page");
    expect(text).toContain("CONFIG_MEMORY_FAILURE");
    expect(textOf("user-process-memory-error", { ...base, gpas: [] })).not.toContain("hard_offline_page");
    const odd = textOf("repeated-memory-errors", { ...base, gpas: ["unlocated:evt_01", "0x1000", "0x1000"] });
    expect(odd).not.toContain("unlocated:evt_01");
    expect(odd.match(/echo 0x1000 \|/g)).toHaveLength(1);
  });

  it("says what the platform did from the VMM's actions", () => {
    expect(textOf("user-process-memory-error", base)).toMatch(/synchronous external abort \(arm64\)[\s\S]*unmapped the poisoned memory/);
    const x86 = textOf("user-process-memory-error", { ...base, arch: "x86_64", actions: ["mce_injected"] });
    expect(x86).toContain("machine-check exception (x86)");
    expect(x86).toContain("mce: Uncorrected hardware memory error in user-access");
    expect(textOf("latent-memory-error", { ...base, actions: ["none"] })).toContain("it took no action on the VM");
    expect(textOf("vm-restarted", { ...base, actions: ["vm_stopped"] })).toMatch(/hypervisor stopped the VM/);
    expect(textOf("vm-restarted", { ...base, actions: ["vm_reset"] })).toMatch(/reset \(hard-restarted\) the VM/);
  });

  it("explains an evacuation as a restart on a healthy host, not a live migration", () => {
    const text = textOf("evacuation-scheduled", base);
    expect(text).toContain("At 2025-10-13T21:00:00Z the platform will stop VM web-1");
    expect(text).toMatch(/not a live migration/);
    expect(text).toContain("Before 2025-10-13T21:00:00Z");
    const moving = textOf("evacuation-scheduled", { ...base, evacuation: { status: "in_progress", scheduledFor: base.openedAt } });
    expect(moving).toMatch(/moving VM web-1 to a healthy host now/);
    expect(textOf("evacuation-scheduled", { ...base, evacuation: null })).toMatch(/time will be announced/);
  });
});

describe("choosePlaybookKey", () => {
  const active = [{ status: "scheduled" as const }, { status: "in_progress" as const }];
  const inactive = [null, { status: "completed" as const }, { status: "cancelled" as const }];

  it("an active evacuation wins over everything", () => {
    for (const evacuation of active) {
      for (const eventPlaybook of PLAYBOOK_KEYS) {
        expect(choosePlaybookKey({ eventPlaybook, distinctPages: 9, evacuation })).toBe("evacuation-scheduled");
      }
    }
  });

  it("a restart or guest-kernel event wins over repeated errors", () => {
    for (const evacuation of inactive) {
      expect(choosePlaybookKey({ eventPlaybook: "vm-restarted", distinctPages: 5, evacuation })).toBe("vm-restarted");
      expect(choosePlaybookKey({ eventPlaybook: "guest-kernel-memory-error", distinctPages: 5, evacuation })).toBe(
        "guest-kernel-memory-error",
      );
    }
  });

  it("two or more distinct pages give repeated-memory-errors, else the event's playbook", () => {
    for (const evacuation of inactive) {
      for (const eventPlaybook of ["user-process-memory-error", "latent-memory-error"] as const) {
        expect(choosePlaybookKey({ eventPlaybook, distinctPages: 2, evacuation })).toBe("repeated-memory-errors");
        expect(choosePlaybookKey({ eventPlaybook, distinctPages: 1, evacuation })).toBe(eventPlaybook);
        expect(choosePlaybookKey({ eventPlaybook, distinctPages: 0, evacuation })).toBe(eventPlaybook);
      }
    }
  });
});
