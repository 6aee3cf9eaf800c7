import type { EvacuationStatus } from "@/db/constants";

// The facts a playbook is filled with. Host identities never appear here, so they cannot reach the text.
export type PlaybookFacts = {
  vmId: string;
  vmName: string;
  projectId: string;
  zone: string;
  /** the earliest error's own time (the event time, not when the platform opened the incident) */
  firstErrorAt: Date;
  lastErrorAt: Date;
  errorCount: number;
  distinctPages: number;
  threshold: number;
  windowSeconds: number;
  /** guest-physical page addresses, may be empty (the first ones when there are many) */
  gpas: string[];
  /** how many of distinctPages have an address, when gpas holds only the first of them */
  locatedPages?: number;
  /** how many of distinctPages are errors without an address (each counts as a page of its own) */
  pagesWithoutAddress?: number;
  /** union of what the VMM did: sea_injected, mce_injected, serror_injected, page_unmapped, memslot_split, vm_stopped, vm_reset, none */
  actions: string[];
  guestMode: "user" | "kernel" | "unknown";
  /** how the VMM learned of the errors: kvm_exit_arm_sea, sigbus, qemu_memory_failure */
  mechanisms: string[];
  /** some error hit memory the hypervisor (QEMU) uses itself, not the guest's (MEMORY_FAILURE recipient "hypervisor") */
  hypervisorMemory: boolean;
  /** some error hit the guest's own memory */
  guestMemory: boolean;
  arch: "arm64" | "x86_64";
  severity: "CRITICAL" | "WARNING";
  evacuation: { status: EvacuationStatus; scheduledFor: Date } | null;
};

export type PlaybookStep = { title: string; body: string };

const MAX_LISTED_PAGES = 10;

export function iso(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// journalctl and find -newermt both accept "YYYY-MM-DD HH:MM:SS UTC"; start a little early for clock skew.
export function journalSince(d: Date): string {
  return `${new Date(d.getTime() - 15 * 60_000).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function duration(seconds: number): string {
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (seconds === 86_400) return "24 hours";
  if (seconds > 0 && seconds % 86_400 === 0)
    return unit(seconds / 86_400, "day");
  if (seconds > 0 && seconds % 3_600 === 0)
    return unit(seconds / 3_600, "hour");
  if (seconds > 0 && seconds % 60 === 0) return unit(seconds / 60, "minute");
  return unit(seconds, "second");
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

type GuestPage = { gpa: string; pfn: string };

// Only real addresses are listed: anything else could not be matched against the guest's own logs.
export function guestPages(f: PlaybookFacts): GuestPage[] {
  const seen = new Set<string>();
  const pages: GuestPage[] = [];
  for (const raw of f.gpas) {
    const gpa = raw.trim().toLowerCase();
    if (!/^0x[0-9a-f]{1,16}$/.test(gpa) || seen.has(gpa)) continue;
    seen.add(gpa);
    pages.push({ gpa, pfn: `0x${(BigInt(gpa) >> 12n).toString(16)}` });
  }
  return pages;
}

// The listed pages and how many more there are, so the line adds up to the incident's page count.
function listedPages(f: PlaybookFacts): { shown: GuestPage[]; more: number } {
  const all = guestPages(f);
  const shown = all.slice(0, MAX_LISTED_PAGES);
  return {
    shown,
    more: Math.max(0, Math.max(all.length, f.locatedPages ?? 0) - shown.length),
  };
}

function withoutAddress(f: PlaybookFacts): string {
  const n = f.pagesWithoutAddress ?? 0;
  if (!n) return "";
  return n === 1
    ? "One error had no address; it counts as a page of its own."
    : `${n} errors had no address; each counts as a page of its own.`;
}

export function summaryStep(f: PlaybookFacts): PlaybookStep {
  const { shown, more } = listedPages(f);
  const pagesLine = shown.length
    ? `Guest-physical ${shown.length + more === 1 ? "page" : "pages"}: ${shown.map((p) => p.gpa).join(", ")}` +
      (more ? ` and ${more} more` : "") +
      "."
    : onlyHypervisorMemory(f)
      ? "No guest-physical page was hit: the error was in memory the hypervisor uses itself."
      : "The platform could not tell which guest-physical page was hit.";
  const unlocated = shown.length ? withoutAddress(f) : "";
  return {
    title: "What happened",
    body: [
      `${f.severity}: an uncorrectable memory error in the host hardware affected VM ${f.vmName} (${f.vmId}), ` +
        `project ${f.projectId}, zone ${f.zone}, architecture ${f.arch}.`,
      `First error: ${iso(f.firstErrorAt)}. Latest error: ${iso(f.lastErrorAt)}.`,
      `So far: ${plural(f.errorCount, "error")} on ${plural(f.distinctPages, "distinct page")}.`,
      unlocated ? `${pagesLine} ${unlocated}` : pagesLine,
    ].join("\n"),
  };
}

export function thresholdLine(f: PlaybookFacts): string {
  return (
    `The platform restarts a VM on a healthy host by itself once it has ${f.threshold} distinct poisoned pages ` +
    `within ${duration(f.windowSeconds)}; this incident has counted ${f.distinctPages} so far.`
  );
}

const ACTION_TEXT: Record<string, string> = {
  sea_injected:
    "reported the error to the guest as a synchronous external abort (arm64), so that the guest kernel could stop only the process that read the page",
  mce_injected:
    "reported the error to the guest as a machine-check exception (x86), so that the guest kernel could stop only the process that read the page",
  serror_injected:
    "delivered the error to the guest as an asynchronous SError (arm64), which guests usually cannot recover from",
  page_unmapped:
    "unmapped the poisoned memory from the VM, so a later access is reported as an error again instead of returning corrupted data",
  memslot_split:
    "fenced the poisoned page off from the rest of the VM's memory, so its corrupted data cannot be read",
  vm_stopped:
    "stopped the VM, because the error could not be contained inside it",
  vm_reset: "reset the VM, because the error could not be contained inside it",
};

export function wasReportedToGuest(f: PlaybookFacts): boolean {
  return f.actions.some(
    (a) =>
      a === "sea_injected" || a === "mce_injected" || a === "serror_injected",
  );
}

// Every error hit memory QEMU uses itself: nothing in the guest read it or can see it.
export function onlyHypervisorMemory(f: PlaybookFacts): boolean {
  return f.hypervisorMemory && !f.guestMemory;
}

// An arm64 guest runs memory_failure() — retires the page and prints "Memory failure:" — only when
// firmware hands it an error record (APEI/GHES, as QEMU does for a SIGBUS). A synchronous abort
// replayed from a KVM_EXIT_ARM_SEA exit comes without one: do_sea sends the process SIGBUS and
// the page stays in service. After a SIGBUS on arm64 it depends on the VMM and the guest's firmware.
export type Arm64Replay = "without_record" | "record_unknown" | null;

export function arm64Replay(f: PlaybookFacts): Arm64Replay {
  if (f.arch !== "arm64" || !f.actions.includes("sea_injected")) return null;
  return f.mechanisms.includes("kvm_exit_arm_sea")
    ? "without_record"
    : "record_unknown";
}

// An error nothing consumed (every entry a WARNING) was injected so the guest retires the page, not to stop a process.
const LATENT_ACTION_TEXT: Record<string, string> = {
  sea_injected:
    "reported the error to the guest as a synchronous external abort (arm64)",
  mce_injected:
    "reported the error to the guest as a machine-check exception (x86), so that the guest kernel can take the page out of service before anything reads it",
};

export function platformActionsStep(f: PlaybookFacts): PlaybookStep {
  const text = (a: string) =>
    f.severity === "WARNING"
      ? (LATENT_ACTION_TEXT[a] ?? ACTION_TEXT[a])
      : ACTION_TEXT[a];
  const done = [...new Set(f.actions)].flatMap((a) =>
    text(a) ? [text(a)!] : [],
  );
  const head = done.length
    ? ["The platform has already:", ...done.map((t) => `- ${t}.`)]
    : ["The platform recorded the error; it took no action on the VM."];
  return {
    title: "What the platform already did",
    body: [
      ...head,
      "Poisoned memory cannot be repaired in place; the VM is rid of it only after a stop and start, which gives " +
        "it fresh memory.",
    ].join("\n"),
  };
}

export function findProcessStep(f: PlaybookFacts): PlaybookStep {
  const { shown } = listedPages(f);
  const examplePfn = shown[0]?.pfn ?? "0x12345";
  const since = journalSince(f.firstErrorAt);
  const abortLine = [
    "  postgres[4242]: unhandled exception: DABT (lower EL), ESR 0x0000000092000010, synchronous external abort in postgres[aaaad5a40000+1b6000]",
    'The name and number before "unhandled exception" are the stopped process and its PID.',
  ];
  const lines = [
    "On the VM, as root, search the kernel log from shortly before the first error:",
    `$ sudo journalctl -k --since "${since}" | grep -iE "memory failure|hardware error|mce|external abort"`,
    '$ sudo dmesg -T | grep -iE "memory failure|hardware error|mce|external abort"',
  ];
  if (arm64Replay(f) === "without_record") {
    // do_sea without an error record: no memory_failure(), only the signal and its report
    lines.push(
      'The abort reached the guest without a firmware error record, so its kernel prints no "Memory failure" line. ' +
        "It logs the stopped process itself, unless the process handled SIGBUS, for example:",
      ...abortLine,
    );
  } else {
    lines.push(
      "The guest kernel prints lines such as:",
      `  Memory failure: ${examplePfn}: Sending SIGBUS to postgres:4242 due to hardware memory corruption`,
      `  Memory failure: ${examplePfn}: recovery action for dirty LRU page: Recovered`,
      'The name and number after "Sending SIGBUS to" are the stopped process and its PID. The hex number after ' +
        '"Memory failure:" is the guest page frame number; with 4 KiB guest pages it is the guest-physical address ' +
        "divided by 4096.",
    );
    if (shown.length)
      lines.push(
        ...shown.map((p) => `  guest-physical ${p.gpa} = page frame ${p.pfn}`),
      );
    lines.push(
      ...(f.arch === "arm64"
        ? [
            'An arm64 guest prints "Memory failure" lines only when firmware also handed it an error record. ' +
              "Without one its kernel logs the stopped process instead (unless the process handled SIGBUS), for example:",
            ...abortLine,
          ]
        : [
            'An x86 guest also logs the machine check itself, for example "mce: Uncorrected hardware memory error in ' +
              'user-access at …" or "mce: [Hardware Error]: …".',
          ]),
    );
  }
  lines.push(
    "A process run by systemd is also logged as killed by SIGBUS (signal 7), and its unit shows as failed unless " +
      "it was restarted:",
    `$ sudo journalctl --since "${since}" | grep -E "status=7/BUS|SIGBUS"`,
    "$ systemctl list-units --state=failed",
  );
  return { title: "Find the affected process", body: lines.join("\n") };
}

// What an arm64 guest did with the page after the platform replayed the abort into it.
export function pageRetiredStep(f: PlaybookFacts): PlaybookStep | null {
  const replay = arm64Replay(f);
  if (!replay) return null;
  const grep = `$ sudo journalctl -k --since "${journalSince(f.firstErrorAt)}" | grep -i "memory failure"`;
  const next = guestPages(f).length
    ? "Retire the page yourself (next step), or stop and start the VM to give it fresh memory."
    : "The platform could not tell which page it was, so stop and start the VM at a convenient time to give it fresh memory.";
  if (replay === "without_record") {
    return {
      title: "The guest did not retire the page",
      body: [
        "The platform replayed the error into the guest as a synchronous external abort, without a firmware error " +
          "record (ACPI APEI/GHES). With such an abort the guest kernel sends SIGBUS to the process that read the page " +
          'but runs no memory-failure handling: it prints no "Memory failure" line and keeps the page in service, so ' +
          "the next program that reads it is stopped the same way. To confirm that the guest did not retire it (no output):",
        grep,
        next,
      ].join("\n"),
    };
  }
  return {
    title: "Check whether the guest retired the page",
    body: [
      "An arm64 guest takes a poisoned page out of service only when firmware also hands it an error record (ACPI " +
        "APEI/GHES); after a synchronous external abort alone its kernel sends SIGBUS to the process but keeps using " +
        'the page. A "Memory failure" line for the page means it was retired:',
      grep,
      `If there is none, the page is still in service. ${next}`,
    ].join("\n"),
  };
}

export function dataLossStep(): PlaybookStep {
  return {
    title: "Read what the page held",
    body: [
      'The "recovery action for …" line says what the page held and whether the guest kernel contained the error:',
      '- "dirty LRU page": process memory, or file data not yet written to disk. It is lost; if it was file data, ' +
        "the next fsync or write-back of that file fails with an I/O error (EIO).",
      '- "clean LRU page": a copy of data that is also on disk (a cached file, program code). The kernel dropped ' +
        "it and reads it from disk again: nothing is lost.",
      '- "free buddy page": memory that was not in use. Nothing is lost.',
      '- "huge page": part of a huge page (often a database\'s shared memory). Processes using it are stopped ' +
        "when they touch it; treat its contents as lost.",
      '- "reserved kernel page", "high-order kernel page" or "unknown page": memory of the guest kernel itself, ' +
        "which it cannot recover. Stop and start the VM.",
      'A result of "Recovered" means the page is isolated. "Ignored", "Failed" or "Delayed" means the guest could ' +
        "not fully contain the error: stop and start the VM.",
    ].join("\n"),
  };
}

export function checkDataStep(
  f: PlaybookFacts,
  who: "process" | "processes",
): PlaybookStep {
  const one = who === "process";
  const when =
    f.lastErrorAt.getTime() === f.firstErrorAt.getTime()
      ? `at ${iso(f.firstErrorAt)}`
      : `between ${iso(f.firstErrorAt)} and ${iso(f.lastErrorAt)}`;
  return {
    title: one
      ? "Restart the process and check its data"
      : "Restart the processes and check their data",
    body: [
      `${one ? "The process was" : "Each process was"} stopped at an arbitrary point, as if killed with kill -9. ` +
        `Restart ${one ? "it" : "each one"} through whatever manages it (systemd may already have restarted it):`,
      "$ systemctl status your-service.service",
      "$ sudo systemctl restart your-service.service",
      `Then check data written shortly before ${one ? "it was" : "they were"} stopped (errors ${when}):`,
      "- Databases run crash recovery on start: read their log for errors, and run their consistency check (for " +
        "example pg_amcheck for PostgreSQL, mysqlcheck --all-databases for MySQL or MariaDB).",
      "- Files that were being written may be incomplete: compare them with a replica, a checksum or a backup. To " +
        "list files changed since shortly before the first error:",
      `$ sudo find /path/to/data -type f -newermt "${journalSince(f.firstErrorAt)}"`,
      "- Work taken from a queue but not finished may need to be run again.",
    ].join("\n"),
  };
}

export function hardOfflineStep(f: PlaybookFacts): PlaybookStep | null {
  const { shown } = listedPages(f);
  if (!shown.length) return null;
  return {
    title: "Optional: keep the guest off the bad memory",
    body: [
      "The addresses above are guest-physical: what the VM's own kernel calls physical addresses. If the kernel " +
        'log has a "Memory failure" line for a page, the guest kernel has already retired it and there is nothing ' +
        "to do. Otherwise, on a Linux guest built with CONFIG_MEMORY_FAILURE (the file below exists), root can " +
        "retire the page so the guest never uses it again:",
      ...shown.map(
        (p) =>
          `$ echo ${p.gpa} | sudo tee /sys/devices/system/memory/hard_offline_page`,
      ),
      "This stops any process that still uses the page and lasts only until the guest restarts. Other guest " +
        "operating systems have no equivalent documented here. A stop and start of the VM gives it fresh memory, " +
        "which makes this unnecessary.",
    ].join("\n"),
  };
}

export function stopStartStep(f: PlaybookFacts, intro: string): PlaybookStep {
  return {
    title: "Move to healthy hardware: fail over, then stop and start",
    body: [
      intro,
      "1. If this VM is the primary node of a high-availability pair (for example a Pacemaker cluster), fail over " +
        "to the secondary first.",
      "2. Stop the VM from the console or API.",
      "3. Start it again.",
      "Prefer a stop and start to a reboot: a start places the VM on healthy hardware with fresh memory, while a " +
        "reboot can leave it on the same host, where failing memory often produces further errors.",
      thresholdLine(f),
    ].join("\n"),
  };
}
