let n = 0;

export type EventOpts = {
  hostId: string;
  vmId: string;
  id?: string;
  time?: string;
  mechanism?: "kvm_exit_arm_sea" | "sigbus" | "qemu_memory_failure";
  gpa?: string | null;
  esr?: string;
  sigbusCode?: "BUS_MCEERR_AR" | "BUS_MCEERR_AO";
  guestMode?: "user" | "kernel" | "unknown";
  actions?: string[];
  qemuAction?: "ignore" | "inject" | "fatal" | "reset";
  actionRequired?: boolean;
};

// A valid vmm.memory_error.v1 CloudEvent.
export function memoryEvent(o: EventOpts): Record<string, unknown> {
  n += 1;
  const mechanism = o.mechanism ?? "kvm_exit_arm_sea";
  const data: Record<string, unknown> = {
    vmId: o.vmId,
    hostId: o.hostId,
    vcpu: 3,
    arch: mechanism === "kvm_exit_arm_sea" ? "arm64" : "x86_64",
    mechanism,
    guestMode: o.guestMode ?? "user",
    actions:
      o.actions ??
      (mechanism === "kvm_exit_arm_sea"
        ? ["sea_injected", "page_unmapped"]
        : ["mce_injected", "page_unmapped"]),
  };
  if (mechanism === "kvm_exit_arm_sea") {
    data.armSea =
      o.gpa === null
        ? {
            flags: 0,
            esr: o.esr ?? "0x0000000092000610",
            gva: "0x0000000000000000",
            gpa: "0x0000000000000000",
          }
        : {
            flags: 1,
            esr: o.esr ?? "0x0000000092000010",
            gva: "0x0000ffff9a2b3c40",
            gpa: o.gpa ?? "0x00000001234f8000",
          };
  } else if (mechanism === "sigbus") {
    data.sigbus = {
      code: o.sigbusCode ?? "BUS_MCEERR_AR",
      addrLsb: 12,
      ...(o.gpa === null ? {} : { gpa: o.gpa ?? "0x00000000b7a41000" }),
    };
  } else {
    data.qemu = {
      recipient: "guest",
      action: o.qemuAction ?? "inject",
      flags: { "action-required": o.actionRequired ?? true, recursive: false },
    };
  }
  return {
    specversion: "1.0",
    id: o.id ?? `ev-${process.pid}-${Date.now()}-${n}`,
    source: `/hosts/${o.hostId}`,
    type: "vmm.memory_error.v1",
    time: o.time ?? new Date().toISOString(),
    subject: o.vmId,
    datacontenttype: "application/json",
    data,
  };
}

export function gpaOf(page: number): string {
  return "0x" + (0x100000000 + page * 0x1000).toString(16).padStart(16, "0");
}
