import type { Db } from "@/db/client";
import { serviceContext } from "@/server/context";
import { resolveQuietIncidents } from "@/server/incidents/resolve-quiet";
import { ingestEvents } from "@/server/ingest/ingest-events";
import { addMember } from "@/server/tenants/members";
import { upsertHost } from "@/server/inventory/hosts";
import { upsertProject } from "@/server/inventory/projects";
import { upsertTenant } from "@/server/inventory/tenants";
import { upsertVm } from "@/server/vm-lifecycle";

export const DEMO = {
  tenants: [
    {
      id: "acme",
      name: "Acme Analytics",
      contactEmails: ["oncall@acme.example"],
      owner: "owner@acme.example",
      viewer: "viewer@acme.example",
    },
    {
      id: "globex",
      name: "Globex Retail",
      contactEmails: ["sre@globex.example"],
      owner: "owner@globex.example",
      viewer: "viewer@globex.example",
    },
  ],
  operatorEmail: "operator@poisonwatch.example",
};

type Vm = { id: string; name: string; projectId: string; hostId: string };

// Deterministic pseudo-random numbers so every demo database looks the same.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const hex16 = (n: bigint) => "0x" + n.toString(16).padStart(16, "0");

// Demo inventory and 30 days of realistic memory-error history, all through the service functions
// that the API uses, with the clock set to each event's time.
export async function seedDemo(db: Db, at: Date): Promise<Vm[]> {
  // a context per call: each takes the time of the clock when it runs
  const ctx = () => serviceContext(db, "system:demo");
  const zones = ["eu-west1-a", "eu-west1-b"];
  const hosts = ["host-a17", "host-a18", "host-b03", "host-b04"];
  for (const [i, h] of hosts.entries())
    await upsertHost(ctx(), { id: h, zone: zones[i < 2 ? 0 : 1]! });
  const vms: Vm[] = [];
  const placedAt = new Date(at.getTime() - 90 * 86400_000).toISOString();
  for (const t of DEMO.tenants) {
    await upsertTenant(ctx(), {
      id: t.id,
      name: t.name,
      contactEmails: t.contactEmails,
    });
    await addMember(ctx(), { tenantId: t.id, email: t.owner, role: "owner" });
    await addMember(ctx(), { tenantId: t.id, email: t.viewer, role: "viewer" });
    for (const p of ["prod", "staging"]) {
      const projectId = `${t.id}-${p}`;
      await upsertProject(ctx(), {
        id: projectId,
        tenantId: t.id,
        name: `${t.name} ${p}`,
      });
      const names =
        p === "prod"
          ? ["web-1", "web-2", "db-1", "cache-1"]
          : ["web-1", "batch-1"];
      for (const [i, name] of names.entries()) {
        const id = `${t.id}-${p}-${name}`;
        const hostId = hosts[(vms.length + i) % hosts.length]!;
        await upsertVm(ctx(), {
          id,
          projectId,
          name,
          zone: zones[hosts.indexOf(hostId) < 2 ? 0 : 1]!,
          hostId,
          placedAt,
        });
        vms.push({ id, name, projectId, hostId });
      }
    }
  }
  const rand = rng(42);
  const start = at.getTime() - 30 * 86400_000;
  const events: {
    time: number;
    hostId: string;
    body: Record<string, unknown>;
  }[] = [];
  let n = 0;
  const push = (vm: Vm, time: number, data: Record<string, unknown>) => {
    n += 1;
    events.push({
      time,
      hostId: vm.hostId,
      body: {
        specversion: "1.0",
        id: `demo-${n}`,
        source: `/hosts/${vm.hostId}`,
        type: "vmm.memory_error.v1",
        time: new Date(time).toISOString(),
        subject: vm.id,
        data: {
          vmId: vm.id,
          hostId: vm.hostId,
          vcpu: Math.floor(rand() * 8),
          ...data,
        },
      },
    });
  };
  const page = () =>
    hex16(0x80000000n + BigInt(Math.floor(rand() * 0x100000)) * 0x1000n);
  // scattered single errors over the month, all three mechanisms
  for (let i = 0; i < 14; i++) {
    const vm = vms[Math.floor(rand() * vms.length)]!;
    const time = start + rand() * 27 * 86400_000;
    const kind = i % 3;
    if (kind === 0) {
      push(vm, time, {
        arch: "arm64",
        mechanism: "kvm_exit_arm_sea",
        guestMode: "user",
        actions: ["sea_injected", "page_unmapped"],
        armSea: {
          flags: 1,
          esr: "0x0000000092000010",
          gva: "0x0000ffff9a2b3c40",
          gpa: page(),
        },
      });
    } else if (kind === 1) {
      push(vm, time, {
        arch: "x86_64",
        mechanism: "sigbus",
        guestMode: "user",
        actions: ["mce_injected", "page_unmapped"],
        sigbus: {
          code: i % 2 ? "BUS_MCEERR_AR" : "BUS_MCEERR_AO",
          addrLsb: 12,
          gpa: page(),
        },
      });
    } else {
      push(vm, time, {
        arch: "x86_64",
        mechanism: "qemu_memory_failure",
        guestMode: "unknown",
        qemu: {
          recipient: "guest",
          action: "inject",
          flags: { "action-required": true, recursive: false },
        },
      });
    }
  }
  // today: acme's db-1 has repeated errors on several pages, one without an address
  const db1 = vms.find((v) => v.id === "acme-prod-db-1")!;
  for (let i = 0; i < 3; i++) {
    push(db1, at.getTime() - (5 - i) * 3600_000, {
      arch: "arm64",
      mechanism: "kvm_exit_arm_sea",
      guestMode: "user",
      actions: ["sea_injected", "page_unmapped"],
      armSea: {
        flags: 1,
        esr: "0x0000000092000010",
        gva: "0x0000ffff9a2b3c40",
        gpa: page(),
      },
    });
  }
  push(db1, at.getTime() - 1800_000, {
    arch: "arm64",
    mechanism: "kvm_exit_arm_sea",
    guestMode: "user",
    actions: ["sea_injected"],
    armSea: {
      flags: 0,
      esr: "0x0000000092000610",
      gva: "0x0000000000000000",
      gpa: "0x0000000000000000",
    },
  });
  // globex's web-1 had a guest-kernel consumption yesterday
  const gweb = vms.find((v) => v.id === "globex-prod-web-1")!;
  push(gweb, at.getTime() - 20 * 3600_000, {
    arch: "x86_64",
    mechanism: "sigbus",
    guestMode: "kernel",
    actions: ["mce_injected", "page_unmapped", "vm_reset"],
    sigbus: { code: "BUS_MCEERR_AR", addrLsb: 12, gpa: page() },
  });
  events.sort((a, b) => a.time - b.time);
  for (const e of events) {
    await resolveQuietIncidents(db, new Date(e.time));
    await ingestEvents(
      { ...ctx(), now: new Date(e.time + 2000) },
      { hostId: e.hostId, events: [e.body], mode: "single" },
    );
  }
  await resolveQuietIncidents(db, at);
  return vms;
}
