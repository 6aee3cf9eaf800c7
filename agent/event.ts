// The events the agent makes: vmm.memory_error.v1 CloudEvents (spec.md, "Ingestion"), checked by
// hand so the agent stays free of run-time dependencies. A line the service would refuse is
// refused at the intake, where the VMM that wrote it can still hear why.
import { randomUUID } from "node:crypto";

export type Arch = "arm64" | "x86_64";
export type CloudEvent = {
  specversion: "1.0";
  id: string;
  source: string;
  type: "vmm.memory_error.v1";
  time: string;
  subject: string;
  datacontenttype: "application/json";
  data: Record<string, unknown>;
};

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const HEX_U64 = /^0[xX][0-9a-fA-F]{1,16}$/;
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const MAX_FUTURE_MS = 5 * 60_000;
const MAX_AGE_MS = 7 * 24 * 3600_000;

const MECHANISMS = [
  "kvm_exit_arm_sea",
  "sigbus",
  "qemu_memory_failure",
] as const;
const BLOCK_OF = {
  kvm_exit_arm_sea: "armSea",
  sigbus: "sigbus",
  qemu_memory_failure: "qemu",
} as const;
const ACTIONS = [
  "sea_injected",
  "mce_injected",
  "serror_injected",
  "page_unmapped",
  "memslot_split",
  "vm_stopped",
  "vm_reset",
  "none",
];
const QEMU_RECIPIENTS = ["hypervisor", "guest"];
const QEMU_ACTIONS = ["ignore", "inject", "fatal", "reset"] as const;
const DATA_KEYS = new Set([
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
]);

export function parseRfc3339(s: string): number | null {
  const m = RFC3339.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (
    mo < 1 ||
    mo > 12 ||
    d < 1 ||
    d > new Date(Date.UTC(y, mo, 0)).getUTCDate() ||
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
  return Date.UTC(y, mo - 1, d, h, mi, sec, ms) - offsetMin * 60_000;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;

class Invalid extends Error {}
function need(ok: boolean, path: string, message: string): void {
  if (!ok) throw new Invalid(`${path}: ${message}`);
}
function onlyKeys(o: Record<string, unknown>, keys: string[], path: string) {
  for (const k of Object.keys(o))
    need(keys.includes(k), `${path}.${k}`, "is not a known field");
}

function checkArmSea(b: unknown) {
  need(isObject(b), "armSea", "must be an object");
  const o = b as Record<string, unknown>;
  onlyKeys(o, ["flags", "esr", "gva", "gpa"], "armSea");
  need(
    isInt(o.flags, 0, Number.MAX_SAFE_INTEGER),
    "armSea.flags",
    "must be a non-negative integer",
  );
  for (const k of ["esr", "gva", "gpa"])
    need(
      typeof o[k] === "string" && HEX_U64.test(o[k] as string),
      `armSea.${k}`,
      "must be 0x followed by 1-16 hex digits",
    );
}

function checkSigbus(b: unknown) {
  need(isObject(b), "sigbus", "must be an object");
  const o = b as Record<string, unknown>;
  onlyKeys(o, ["code", "addrLsb", "gpa"], "sigbus");
  need(
    o.code === "BUS_MCEERR_AR" || o.code === "BUS_MCEERR_AO",
    "sigbus.code",
    "must be BUS_MCEERR_AR or BUS_MCEERR_AO",
  );
  need(
    isInt(o.addrLsb, 12, 40),
    "sigbus.addrLsb",
    "must be an integer from 12 to 40",
  );
  if (o.gpa !== undefined)
    need(
      typeof o.gpa === "string" && HEX_U64.test(o.gpa),
      "sigbus.gpa",
      "must be 0x followed by 1-16 hex digits",
    );
}

// QEMU's MEMORY_FAILURE data as QMP prints it, or as libvirt hands it over (all integers).
function checkQemu(b: unknown) {
  need(isObject(b), "qemu", "must be an object");
  const o = b as Record<string, unknown>;
  onlyKeys(o, ["recipient", "action", "flags"], "qemu");
  if (typeof o.recipient === "number") {
    need(
      isInt(o.recipient, 0, 1),
      "qemu.recipient",
      "must be 0 (hypervisor) or 1 (guest)",
    );
    need(
      isInt(o.action, 0, 3),
      "qemu.action",
      "must be 0-3 (ignore, inject, fatal, reset) in libvirt's form",
    );
    need(
      isInt(o.flags, 0, 3),
      "qemu.flags",
      "must be a bitmask of 1 (action-required) and 2 (recursive) in libvirt's form",
    );
    return;
  }
  need(
    QEMU_RECIPIENTS.includes(o.recipient as string),
    "qemu.recipient",
    "must be hypervisor or guest",
  );
  need(
    (QEMU_ACTIONS as readonly unknown[]).includes(o.action),
    "qemu.action",
    "must be ignore, inject, fatal or reset",
  );
  need(
    isObject(o.flags),
    "qemu.flags",
    'must be { "action-required": boolean, "recursive": boolean }',
  );
  const f = o.flags as Record<string, unknown>;
  onlyKeys(f, ["action-required", "recursive"], "qemu.flags");
  need(
    typeof f["action-required"] === "boolean",
    "qemu.flags.action-required",
    "must be a boolean",
  );
  need(
    typeof f.recursive === "boolean",
    "qemu.flags.recursive",
    "must be a boolean",
  );
}

// QEMU's action → what the VMM did (spec.md, "Host agent").
export function actionsOfQemu(action: unknown, arch: Arch): string[] {
  const name = typeof action === "number" ? QEMU_ACTIONS[action] : action;
  if (name === "inject")
    return [arch === "arm64" ? "sea_injected" : "mce_injected"];
  if (name === "fatal") return ["vm_stopped"];
  if (name === "reset") return ["vm_reset"];
  return ["none"];
}

export type HostConfig = { hostId: string; arch: Arch };

// One intake line (the `data` of an event, plus an optional `time`) → the data and the time to
// use, or an error message for the VMM.
export function checkIntakeLine(
  line: unknown,
  host: HostConfig,
  nowMs: number,
):
  | { ok: true; data: Record<string, unknown>; time: string }
  | { ok: false; error: string } {
  try {
    need(
      isObject(line),
      "line",
      "must be a JSON object (the data of one event)",
    );
    const { time, ...rest } = line as Record<string, unknown>;
    let eventTime = new Date(nowMs).toISOString();
    if (time !== undefined) {
      const t = typeof time === "string" ? parseRfc3339(time) : null;
      need(
        t !== null,
        "time",
        "must be an RFC 3339 date-time with an offset, e.g. 2025-11-20T10:15:00Z",
      );
      need(
        t! <= nowMs + MAX_FUTURE_MS,
        "time",
        "is more than 5 minutes in the future",
      );
      need(t! >= nowMs - MAX_AGE_MS, "time", "is more than 7 days in the past");
      eventTime = time as string;
    }
    const d: Record<string, unknown> = { ...rest };
    for (const k of Object.keys(d))
      need(DATA_KEYS.has(k), k, "is not a known field");
    d.hostId ??= host.hostId;
    d.arch ??= host.arch;
    need(
      typeof d.vmId === "string" && ID_PATTERN.test(d.vmId),
      "vmId",
      "must match ^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
    );
    need(
      d.hostId === host.hostId,
      "hostId",
      `must be this agent's host (${host.hostId}) or absent`,
    );
    need(
      d.arch === "arm64" || d.arch === "x86_64",
      "arch",
      "must be arm64 or x86_64",
    );
    if (d.vcpu !== undefined)
      need(isInt(d.vcpu, 0, 4095), "vcpu", "must be an integer from 0 to 4095");
    need(
      (MECHANISMS as readonly unknown[]).includes(d.mechanism),
      "mechanism",
      `must be one of ${MECHANISMS.join(", ")}`,
    );
    const mechanism = d.mechanism as (typeof MECHANISMS)[number];
    for (const [m, block] of Object.entries(BLOCK_OF)) {
      if (m === mechanism)
        need(
          d[block] !== undefined,
          block,
          `is required when mechanism is ${mechanism}`,
        );
      else
        need(
          d[block] === undefined,
          block,
          `must be absent when mechanism is ${mechanism}`,
        );
    }
    if (mechanism === "kvm_exit_arm_sea") {
      need(
        d.arch === "arm64",
        "arch",
        "must be arm64 when mechanism is kvm_exit_arm_sea",
      );
      checkArmSea(d.armSea);
    } else if (mechanism === "sigbus") checkSigbus(d.sigbus);
    else checkQemu(d.qemu);
    if (d.guestMode !== undefined)
      need(
        ["user", "kernel", "unknown"].includes(d.guestMode as string),
        "guestMode",
        "must be user, kernel or unknown",
      );
    if (d.actions !== undefined) {
      need(Array.isArray(d.actions), "actions", "must be an array");
      (d.actions as unknown[]).forEach((a, i) =>
        need(
          ACTIONS.includes(a as string),
          `actions.${i}`,
          `must be one of ${ACTIONS.join(", ")}`,
        ),
      );
    }
    return { ok: true, data: d, time: eventTime };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    throw e;
  }
}

// The id is made here, once: the spool keeps it, so every resend is a duplicate to the service.
export function makeEvent(
  hostId: string,
  data: Record<string, unknown>,
  time: string,
): CloudEvent {
  return {
    specversion: "1.0",
    id: randomUUID(),
    source: `/hosts/${hostId}`,
    type: "vmm.memory_error.v1",
    time,
    subject: String(data.vmId),
    datacontenttype: "application/json",
    data,
  };
}

// QMP's { seconds, microseconds } → RFC 3339 keeping every microsecond QEMU gave.
export function qmpTimestampToRfc3339(ts: unknown, fallbackMs: number): string {
  if (
    isObject(ts) &&
    isInt(ts.seconds, 0, 253402300799) &&
    isInt(ts.microseconds, 0, 999_999)
  ) {
    const base = new Date((ts.seconds as number) * 1000)
      .toISOString()
      .slice(0, 19);
    return `${base}.${String(ts.microseconds).padStart(6, "0")}Z`;
  }
  return new Date(fallbackMs).toISOString();
}
