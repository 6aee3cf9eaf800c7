// One sentence a person understands for a log entry, beside its raw fields: what touched the
// memory, what the hardware said about the error, and what the platform did. Pure (the console's
// client code uses it).

type Payload = {
  mechanism?: string;
  guestMode?: string;
  actions?: string[];
  esr?: {
    ecName?: string | null;
    wnr?: number | null;
    errorState?: string | null;
  } | null;
  sigbus?: { code?: string } | null;
  qemu?: { recipient?: string; flags?: { "action-required"?: boolean } } | null;
};

const WHO: Record<string, string> = {
  user: "a guest user process",
  kernel: "the guest kernel",
  unknown: "the guest",
};

const STATE: Record<string, string> = {
  UER: "that the hardware contained (recoverable)",
  UEO: "that the hardware contained and that had not yet been consumed",
  UEU: "that the hardware could not contain",
  UC: "that the hardware could not contain",
  CE: "that the hardware corrected",
};

const DONE: Record<string, string> = {
  page_unmapped: "the page was unmapped",
  sea_injected: "the error was passed to the guest",
  mce_injected: "a machine check was passed to the guest",
  serror_injected: "an SError was passed to the guest",
  memslot_split: "the memory around it was split off",
  vm_stopped: "the VM was stopped",
  vm_reset: "the VM was reset",
};

export function plainWords(
  p: Payload,
  severity: "CRITICAL" | "WARNING",
): string {
  const who = WHO[p.guestMode ?? "unknown"] ?? "the guest";
  let what: string;
  if (p.esr?.ecName?.startsWith("IABT"))
    what = `an instruction fetch by ${who} hit an uncorrectable memory error`;
  else if (p.esr?.ecName?.startsWith("DABT"))
    what = `a data ${p.esr.wnr === 1 ? "write" : "read"} from ${who} hit an uncorrectable memory error`;
  else if (p.esr?.ecName?.startsWith("SError"))
    what = `${who} took an asynchronous uncorrectable memory error (SError)`;
  else if (severity === "WARNING")
    what =
      "an uncorrectable memory error was found in the guest's memory before anything used it";
  else if (p.qemu?.recipient === "hypervisor")
    what =
      "an uncorrectable memory error hit memory the hypervisor uses for this VM";
  else what = `${who} used memory with an uncorrectable error`;
  const state = p.esr?.errorState ? STATE[p.esr.errorState] : undefined;
  if (state) what += ` ${state}`;
  const done = (p.actions ?? [])
    .map((a) => DONE[a])
    .filter((x): x is string => Boolean(x));
  const sentence = done.length ? `${what}; ${done.join(", ")}.` : `${what}.`;
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}
