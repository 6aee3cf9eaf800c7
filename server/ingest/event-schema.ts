import { z } from "zod";
import { OPERATOR_ID_PATTERN } from "@/db/ids";
import type { ErrorDetail } from "@/server/errors";

// The public ingestion contract (spec.md, "Ingestion: POST /api/v1/events"), written by hand so
// a table change cannot alter it. Cross-field rules live in superRefine, which toJSONSchema skips.

export const EVENT_TYPE = "vmm.memory_error.v1";
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;
// An event older than this when received is refused: a host cannot write far back into a VM's history.
export const MAX_EVENT_AGE_MS = 7 * 86400 * 1000;
// log_entries.vcpu is an integer column; the spec bounds it further.
export const MAX_VCPU = 4095;

const HEX_U64_PATTERN = /^0[xX][0-9a-fA-F]{1,16}$/;
const ID_MESSAGE = "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";
const RFC3339_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export const HexU64 = z
  .string()
  .regex(
    HEX_U64_PATTERN,
    "must be a 64-bit hex value: 0x followed by 1-16 hex digits",
  )
  .describe("64-bit value as 0x-prefixed hex (1-16 digits)");

export const OperatorChosenId = z
  .string()
  .regex(OPERATOR_ID_PATTERN, ID_MESSAGE);

// Milliseconds since the epoch, or null when the text is not a real RFC 3339 instant.
export function parseRfc3339(s: string): number | null {
  const m = RFC3339_PATTERN.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    d > daysInMonth ||
    h > 23 ||
    mi > 59 ||
    sec > 60
  )
    return null;
  const zone = m[8]!;
  let offsetMin = 0;
  if (zone !== "Z" && zone !== "z") {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMin = (zone[0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const ms = m[7] ? Math.floor(Number(`0${m[7]}`) * 1000) : 0;
  // a leap second (":60") rolls into the next minute, the closest instant a Date can hold
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms) - offsetMin * 60_000;
}

export const Rfc3339Time = z
  .string()
  .regex(RFC3339_PATTERN, {
    message:
      "must be an RFC 3339 date-time with an offset, e.g. 2025-11-20T10:15:00Z",
    abort: true,
  })
  .refine(
    (s) => parseRfc3339(s) !== null,
    "is not a valid calendar date and time",
  )
  .describe("RFC 3339 date-time, any offset");

export const ArmSea = z
  .strictObject({
    flags: z
      .number()
      .int()
      .min(0)
      .describe("bit 0: GPA valid (KVM_EXIT_ARM_SEA_FLAG_GPA_VALID)"),
    esr: HexU64.describe("ESR_EL2 as KVM sanitised it"),
    gva: HexU64.describe("FAR_EL2; meaningful only when ESR.FnV = 0"),
    gpa: HexU64.describe(
      "faulting IPA, page-aligned; meaningful only when flags bit 0 is set",
    ),
  })
  .describe("KVM_EXIT_ARM_SEA exit (arm64)");

export const Sigbus = z
  .strictObject({
    code: z
      .enum(["BUS_MCEERR_AR", "BUS_MCEERR_AO"])
      .describe("AR: consumed (action required); AO: found, not consumed"),
    addrLsb: z
      .number()
      .int()
      .min(12)
      .max(40)
      .describe("log2 of the poisoned range (12 = 4 KiB, 21 = 2 MiB)"),
    gpa: HexU64.optional().describe(
      "guest physical address, as the VMM translated si_addr",
    ),
  })
  .describe("SIGBUS from the host kernel");

// QEMU's MEMORY_FAILURE data (qapi/run-state.json) verbatim, or the integers libvirt's
// virConnectDomainEventMemoryFailureCallback hands over; both become QEMU's names. The camelCase
// actionRequired of this API's first version is still read (stored events are re-read).
const QEMU_RECIPIENTS = ["hypervisor", "guest"] as const;
const QEMU_ACTIONS = ["ignore", "inject", "fatal", "reset"] as const;
const LIBVIRT_FLAG_ACTION_REQUIRED = 1;
const LIBVIRT_FLAG_RECURSIVE = 2;

const QemuFlags = z
  .strictObject({ "action-required": z.boolean(), recursive: z.boolean() })
  .describe(
    "QEMU's MemoryFailureFlags: action-required (the error was consumed), recursive",
  );
const EarlierQemuFlags = z
  .strictObject({ actionRequired: z.boolean(), recursive: z.boolean() })
  .describe("deprecated: this API's first form of the flags");
const LibvirtFlags = z
  .literal([0, 1, 2, 3])
  .describe("libvirt: bitmask, 1 action-required | 2 recursive");

export const QemuMemoryFailure = z
  .strictObject({
    recipient: z.union(
      [
        z.enum(QEMU_RECIPIENTS),
        z.literal([0, 1]).describe("libvirt: 0 hypervisor, 1 guest"),
      ],
      {
        error:
          'must be "hypervisor" or "guest" (QEMU), or 0 (hypervisor) or 1 (guest) (libvirt)',
      },
    ),
    action: z.union(
      [
        z.enum(QEMU_ACTIONS),
        z
          .literal([0, 1, 2, 3])
          .describe("libvirt: 0 ignore, 1 inject, 2 fatal, 3 reset"),
      ],
      {
        error:
          'must be "ignore", "inject", "fatal" or "reset" (QEMU), or 0 (ignore) to 3 (reset) (libvirt)',
      },
    ),
    flags: z.union([QemuFlags, LibvirtFlags, EarlierQemuFlags], {
      error:
        'must be {"action-required": boolean, "recursive": boolean} (QEMU), or a bitmask 0-3: 1 action-required | 2 recursive (libvirt)',
    }),
  })
  .superRefine((q, ctx) => {
    const numeric = [q.recipient, q.action, q.flags].filter(
      (v) => typeof v === "number",
    ).length;
    if (numeric !== 0 && numeric !== 3) {
      ctx.addIssue({
        code: "custom",
        message:
          "must be QEMU's form (names) or libvirt's (integers) throughout, not a mix",
      });
    }
  })
  .describe(
    "QEMU's MEMORY_FAILURE event data, verbatim as QMP sends it, or as libvirt's memory-failure callback hands it over (integers)",
  );

// Both forms in QEMU's names, flags as booleans: what the rest of the service reads.
export type QemuMemoryFailureData = {
  recipient: (typeof QEMU_RECIPIENTS)[number];
  action: (typeof QEMU_ACTIONS)[number];
  flags: { actionRequired: boolean; recursive: boolean };
};

function qemuInQemuNames(
  q: z.output<typeof QemuMemoryFailure>,
): QemuMemoryFailureData {
  const f = q.flags;
  return {
    recipient:
      typeof q.recipient === "number"
        ? QEMU_RECIPIENTS[q.recipient]
        : q.recipient,
    action: typeof q.action === "number" ? QEMU_ACTIONS[q.action] : q.action,
    flags:
      typeof f === "number"
        ? {
            actionRequired: (f & LIBVIRT_FLAG_ACTION_REQUIRED) !== 0,
            recursive: (f & LIBVIRT_FLAG_RECURSIVE) !== 0,
          }
        : "action-required" in f
          ? { actionRequired: f["action-required"], recursive: f.recursive }
          : f,
  };
}

export const VMM_ACTIONS = [
  "sea_injected",
  "mce_injected",
  "serror_injected",
  "page_unmapped",
  "memslot_split",
  "vm_stopped",
  "vm_reset",
  "none",
] as const;
export type VmmAction = (typeof VMM_ACTIONS)[number];

export const MECHANISMS = [
  "kvm_exit_arm_sea",
  "sigbus",
  "qemu_memory_failure",
] as const;
export type Mechanism = (typeof MECHANISMS)[number];

const BLOCK_OF: Record<Mechanism, "armSea" | "sigbus" | "qemu"> = {
  kvm_exit_arm_sea: "armSea",
  sigbus: "sigbus",
  qemu_memory_failure: "qemu",
};

// What QEMU reports it did is what the VMM did: an MCE (x86) or SEA (arm64) injected, the VM
// stopped or reset, or nothing. It joins the agent's own list; "none" only when that list is empty.
const QEMU_ACTION_DONE: Record<
  QemuMemoryFailureData["action"],
  (arch: "arm64" | "x86_64") => VmmAction
> = {
  inject: (arch) => (arch === "x86_64" ? "mce_injected" : "sea_injected"),
  fatal: () => "vm_stopped",
  reset: () => "vm_reset",
  ignore: () => "none",
};

function withQemuAction(
  actions: VmmAction[],
  action: QemuMemoryFailureData["action"],
  arch: "arm64" | "x86_64",
): VmmAction[] {
  const done = QEMU_ACTION_DONE[action](arch);
  if (actions.length === 0) return [done];
  return done === "none" || actions.includes(done)
    ? actions
    : [...actions, done];
}

// v1 data is closed (strict objects): a misspelt optional field such as guestMode would otherwise
// silently fall back to its default and pick the wrong playbook.
export const MemoryErrorData = z
  .strictObject({
    vmId: OperatorChosenId.describe("must equal the event's subject"),
    hostId: OperatorChosenId.describe(
      "must equal the token's host and the event's source /hosts/{hostId}",
    ),
    vcpu: z.number().int().min(0).max(MAX_VCPU).optional(),
    arch: z.enum(["arm64", "x86_64"]),
    mechanism: z
      .enum(MECHANISMS)
      .describe("names the one block below that must be present"),
    armSea: ArmSea.optional(),
    sigbus: Sigbus.optional(),
    qemu: QemuMemoryFailure.optional(),
    guestMode: z
      .enum(["user", "kernel", "unknown"])
      .default("unknown")
      .describe("where the vCPU was"),
    actions: z
      .array(z.enum(VMM_ACTIONS))
      .default([])
      .describe(
        "what the VMM did; for qemu_memory_failure QEMU's action is added (inject → mce_injected on x86_64, sea_injected on arm64; fatal → vm_stopped; reset → vm_reset; ignore → none when nothing else is listed)",
      ),
  })
  .superRefine((d, ctx) => {
    const wanted = BLOCK_OF[d.mechanism];
    for (const block of ["armSea", "sigbus", "qemu"] as const) {
      if (block === wanted && d[block] === undefined) {
        ctx.addIssue({
          code: "custom",
          path: [block],
          message: `is required when mechanism is ${d.mechanism}`,
        });
      } else if (block !== wanted && d[block] !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [block],
          message: `must be absent when mechanism is ${d.mechanism}`,
        });
      }
    }
    if (d.mechanism === "kvm_exit_arm_sea" && d.arch !== "arm64") {
      ctx.addIssue({
        code: "custom",
        path: ["arch"],
        message: "must be arm64 when mechanism is kvm_exit_arm_sea",
      });
    }
  });
export type MemoryErrorData = Omit<z.output<typeof MemoryErrorData>, "qemu"> & {
  qemu?: QemuMemoryFailureData;
};

// The QEMU block in QEMU's names, and QEMU's action among the actions.
export function parseMemoryErrorData(raw: unknown): MemoryErrorData {
  return normalizeData(MemoryErrorData.parse(raw));
}

function normalizeData(d: z.output<typeof MemoryErrorData>): MemoryErrorData {
  if (!d.qemu) return { ...d, qemu: undefined };
  const qemu = qemuInQemuNames(d.qemu);
  return {
    ...d,
    qemu,
    actions: withQemuAction(d.actions, qemu.action, d.arch),
  };
}

// Unknown top-level attributes (CloudEvents extensions) are accepted and dropped.
export const CloudEvent = z
  .object({
    specversion: z.literal("1.0"),
    id: z
      .string()
      .min(1)
      .max(256)
      .describe("unique per host; the idempotency key"),
    source: z
      .string()
      .regex(
        /^\/hosts\/[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
        "must be /hosts/{hostId}",
      )
      .describe("/hosts/{hostId}"),
    type: z.literal(EVENT_TYPE),
    time: Rfc3339Time.describe(
      "RFC 3339, any offset; at most 5 minutes in the future and at most 7 days in the past",
    ),
    subject: OperatorChosenId.describe("the VM id; must equal data.vmId"),
    datacontenttype: z.literal("application/json").optional(),
    data: MemoryErrorData,
  })
  .superRefine((e, ctx) => {
    // zod still runs this after continuable issues inside data (e.g. an unknown key)
    if (typeof e.data?.hostId !== "string") return;
    if (e.source !== `/hosts/${e.data.hostId}`) {
      ctx.addIssue({
        code: "custom",
        path: ["source"],
        message: `must be /hosts/${e.data.hostId} (data.hostId)`,
      });
    }
    if (e.subject !== e.data.vmId) {
      ctx.addIssue({
        code: "custom",
        path: ["subject"],
        message: "must equal data.vmId",
      });
    }
  })
  .describe("CloudEvents 1.0, structured mode");
export type CloudEvent = z.output<typeof CloudEvent>;

export type ParsedEvent = {
  id: string;
  source: string;
  subject: string;
  time: Date;
  data: MemoryErrorData;
};

export type ParseResult =
  | { ok: true; event: ParsedEvent }
  | { ok: false; message: string; details: ErrorDetail[] };

export function invalid(details: ErrorDetail[]): ParseResult {
  const first = details[0];
  const more = details.length > 1 ? ` (and ${details.length - 1} more)` : "";
  const where = first?.path ? `${first.path}: ` : "";
  return {
    ok: false,
    message: `Invalid event: ${where}${first?.message ?? "invalid"}${more}`,
    details,
  };
}

// now: when the event is received (its time is checked against it); null re-reads an event stored
// earlier, whose time was checked when it arrived.
export function parseCloudEvent(raw: unknown, now: Date | null): ParseResult {
  const r = CloudEvent.safeParse(raw);
  if (!r.success) {
    return invalid(
      r.error.issues.map((i) => ({
        path: i.path.map(String).join("."),
        message: i.message,
      })),
    );
  }
  const e = r.data;
  const time = parseRfc3339(e.time)!;
  if (now && time > now.getTime() + MAX_FUTURE_SKEW_MS) {
    return invalid([
      { path: "time", message: "is more than 5 minutes in the future" },
    ]);
  }
  if (now && time < now.getTime() - MAX_EVENT_AGE_MS) {
    return invalid([
      {
        path: "time",
        message: "is more than 7 days before the event was received",
      },
    ]);
  }
  return {
    ok: true,
    event: {
      id: e.id,
      source: e.source,
      subject: e.subject,
      time: new Date(time),
      data: normalizeData(e.data),
    },
  };
}

// The VMM's own id of an event, for the per-event result of a rejected one.
export function eventIdOf(raw: unknown): string | null {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    return null;
  const id = (raw as { id?: unknown }).id;
  return typeof id === "string" ? id : null;
}
