import type { Severity } from "@/db/constants";
import { decodeEsr } from "./decode-esr";
import type { DecodedEsr } from "./decode-esr";
import type { MemoryErrorData } from "./event-schema";

export type EventPlaybook =
  | "user-process-memory-error"
  | "guest-kernel-memory-error"
  | "latent-memory-error"
  | "vm-restarted";

export type NormalizedError = {
  severity: Severity;
  consumed: boolean;
  gpa: string | null;
  gva: string | null;
  pageSize: number | null;
  pageKey: string | null;
  esr: DecodedEsr | null;
  eventPlaybook: EventPlaybook;
  guestKernel: boolean;
  message: string;
};

const KVM_EXIT_ARM_SEA_FLAG_GPA_VALID = 1;
// HPFAR_EL2 reports the IPA at 4 KiB granularity whatever the guest's own page size.
const ARM_SEA_PAGE_SIZE = 4096;

const hex16 = (v: bigint) => `0x${v.toString(16).padStart(16, "0")}`;

// FAR's top byte is a tag, UNKNOWN for a synchronous external abort: Linux's do_sea hands
// user space untagged_addr(far), which clears it for an address with bit 55 clear (TTBR0) and
// keeps a TTBR1 (bit 55 set) address as it is.
function untaggedAddr(far: bigint): bigint {
  return ((far >> 55n) & 1n) === 1n ? far : far & ((1n << 56n) - 1n);
}

function isConsumed(d: MemoryErrorData): boolean {
  if (d.mechanism === "kvm_exit_arm_sea") return true;
  if (d.mechanism === "sigbus") return d.sigbus?.code === "BUS_MCEERR_AR";
  return d.qemu?.flags.actionRequired === true;
}

function locate(d: MemoryErrorData, esr: DecodedEsr | null) {
  if (d.mechanism === "kvm_exit_arm_sea" && d.armSea) {
    const gpaValid = (d.armSea.flags & KVM_EXIT_ARM_SEA_FLAG_GPA_VALID) !== 0;
    return {
      gpa: gpaValid ? BigInt(d.armSea.gpa) : null,
      gva: esr?.fnv === 0 ? hex16(untaggedAddr(BigInt(d.armSea.gva))) : null,
      pageSize: gpaValid ? ARM_SEA_PAGE_SIZE : null,
    };
  }
  if (d.mechanism === "sigbus" && d.sigbus) {
    return {
      gpa: d.sigbus.gpa === undefined ? null : BigInt(d.sigbus.gpa),
      gva: null,
      pageSize: 2 ** d.sigbus.addrLsb,
    };
  }
  return { gpa: null, gva: null, pageSize: null };
}

function isRestarted(d: MemoryErrorData): boolean {
  return (
    d.actions.includes("vm_stopped") ||
    d.actions.includes("vm_reset") ||
    d.qemu?.action === "fatal" ||
    d.qemu?.action === "reset"
  );
}

// QEMU's recipient "hypervisor": the error hit QEMU's own memory, not the guest's.
function inHypervisorMemory(d: MemoryErrorData): boolean {
  return d.qemu?.recipient === "hypervisor";
}

function choosePlaybook(d: MemoryErrorData, consumed: boolean): EventPlaybook {
  if (isRestarted(d)) return "vm-restarted";
  // nothing in the guest read QEMU's own memory: no guest process or kernel was hit
  if (!consumed || inHypervisorMemory(d)) return "latent-memory-error";
  if (d.guestMode === "kernel") return "guest-kernel-memory-error";
  return "user-process-memory-error";
}

// A clause with its own comma ("…, which ends only the affected process") needs ", and" after it.
function joinClauses(parts: string[]): string {
  if (parts.length <= 1) return parts.join("");
  const last =
    parts.length > 2 || parts.some((p) => p.includes(",")) ? ", and " : " and ";
  return `${parts.slice(0, -1).join(", ")}${last}${parts[parts.length - 1]}`;
}

// Tenant-facing text: names the VM, never host ids or host addresses.
function describe(
  d: MemoryErrorData,
  vmName: string,
  consumed: boolean,
): string {
  let what: string;
  if (inHypervisorMemory(d)) {
    what = consumed
      ? `An uncorrectable memory error was consumed by the hypervisor in its own memory for VM ${vmName}, not in the VM's memory.`
      : `An uncorrectable memory error was found in the hypervisor's own memory for VM ${vmName}, not in the VM's memory.`;
  } else if (!consumed)
    what = `An uncorrectable memory error was found in the memory of VM ${vmName} before any program used it.`;
  else if (d.guestMode === "user")
    what = `An uncorrectable memory error was consumed by a user process in VM ${vmName}.`;
  else if (d.guestMode === "kernel")
    what = `An uncorrectable memory error was consumed by the guest kernel of VM ${vmName}.`;
  else what = `An uncorrectable memory error was consumed in VM ${vmName}.`;

  const acts = new Set<string>(d.actions);
  const qemu = d.qemu?.action;
  const reset = acts.has("vm_reset") || qemu === "reset";
  const stopped = !reset && (acts.has("vm_stopped") || qemu === "fatal");
  const clauses: string[] = [];
  if (acts.has("sea_injected") || acts.has("mce_injected")) {
    if (!consumed)
      clauses.push(
        "reported the error to the guest so that it can stop using the page",
      );
    else if (d.guestMode === "kernel")
      clauses.push(
        "delivered the error to the guest kernel, which may have to restart the guest",
      );
    else if (d.guestMode === "user")
      clauses.push(
        "delivered the error to the guest, which ends only the affected process",
      );
    else
      clauses.push(
        "delivered the error to the guest so that its kernel can end the affected process",
      );
  }
  if (acts.has("serror_injected"))
    clauses.push(
      "signalled an asynchronous error to the guest, which usually makes the guest crash",
    );
  if (acts.has("page_unmapped") || acts.has("memslot_split"))
    clauses.push("unmapped the poisoned page");
  if (reset) clauses.push("reset the VM");
  if (stopped) clauses.push("stopped the VM");
  const did = clauses.length
    ? `The platform ${joinClauses(clauses)}.`
    : acts.has("none")
      ? "The platform recorded the error and took no action on the VM."
      : "The platform recorded the error.";
  return `${what} ${did}`;
}

export function normalizeEvent(
  data: MemoryErrorData,
  vmName: string,
): NormalizedError {
  const consumed = isConsumed(data);
  const esr =
    data.mechanism === "kvm_exit_arm_sea" && data.armSea
      ? decodeEsr(data.armSea.esr, { from: "kvm_exit_arm_sea" })
      : null;
  const { gpa, gva, pageSize } = locate(data, esr);
  const pageKey =
    gpa !== null && pageSize !== null
      ? hex16(gpa & ~(BigInt(pageSize) - 1n))
      : null;
  return {
    severity: consumed ? "CRITICAL" : "WARNING",
    consumed,
    gpa: gpa === null ? null : hex16(gpa),
    gva,
    pageSize,
    pageKey,
    esr,
    eventPlaybook: choosePlaybook(data, consumed),
    guestKernel:
      consumed && data.guestMode === "kernel" && !inHypervisorMemory(data),
    message: describe(data, vmName, consumed),
  };
}
