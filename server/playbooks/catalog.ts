import type { EvacuationStatus } from "@/db/constants";
import {
  arm64Replay,
  checkDataStep,
  dataLossStep,
  findProcessStep,
  hardOfflineStep,
  iso,
  journalSince,
  onlyHypervisorMemory,
  pageRetiredStep,
  platformActionsStep,
  stopStartStep,
  summaryStep,
  thresholdLine,
  wasReportedToGuest,
} from "./fill-playbook";
import type { PlaybookFacts, PlaybookStep } from "./fill-playbook";

export type { PlaybookFacts, PlaybookStep } from "./fill-playbook";

export const PLAYBOOK_KEYS = [
  "user-process-memory-error",
  "guest-kernel-memory-error",
  "latent-memory-error",
  "vm-restarted",
  "evacuation-scheduled",
  "repeated-memory-errors",
] as const;

export type PlaybookKey = (typeof PLAYBOOK_KEYS)[number];

export type PlaybookMeta = { key: PlaybookKey; version: number; title: string };

export type FilledPlaybook = PlaybookMeta & { steps: PlaybookStep[] };

type PlaybookDefinition = {
  // Bump when the advice changes: an incident keeps the version it was shown.
  version: number;
  title: string;
  steps: (f: PlaybookFacts) => PlaybookStep[];
};

const CATALOG: Record<PlaybookKey, PlaybookDefinition> = {
  "user-process-memory-error": {
    version: 2,
    title: "A process on your VM was stopped by a memory error",
    steps: (f) =>
      [
        summaryStep(f),
        {
          title: "Impact",
          body:
            `VM ${f.vmName} kept running. A process on it read memory that the host hardware reported as ` +
            "uncorrectably corrupted; the guest kernel stopped that process (it received SIGBUS) instead of " +
            "letting it use corrupted data" +
            {
              without_record:
                ". The error reached the guest without a firmware error record, so the guest kernel did not retire " +
                "the page: it is still in use, and the next program that reads it is stopped too. ",
              record_unknown:
                ". Whether the guest also took the page out of service depends on whether it received a firmware " +
                "error record (see below). ",
              none: ", and stopped using the page. ",
            }[arm64Replay(f) ?? "none"] +
            "Other processes were not affected. Whatever the stopped process held only in memory is lost.",
        },
        platformActionsStep(f),
        findProcessStep(f),
        pageRetiredStep(f),
        // without memory-failure handling there is no "recovery action" line to read
        arm64Replay(f) === "without_record" ? null : dataLossStep(),
        checkDataStep(f, "process"),
        hardOfflineStep(f),
        stopStartStep(
          f,
          "If errors repeat, or as a precaution for an important workload, move the VM to healthy hardware:",
        ),
      ].filter(isStep),
  },

  "guest-kernel-memory-error": {
    version: 1,
    title: "Your VM's kernel hit a memory error",
    steps: (f) =>
      [
        summaryStep(f),
        {
          title: "Impact",
          body:
            `The corrupted memory was read by the guest operating system's kernel on VM ${f.vmName}, not by an ` +
            "ordinary process. A kernel cannot safely continue after that, so the guest most likely crashed " +
            "(kernel panic) and rebooted, or it may be hung. Every process on the VM was interrupted, and data " +
            "not yet written to disk is lost." +
            (f.actions.includes("serror_injected")
              ? " The error reached the guest as an asynchronous SError, which guests generally cannot recover from."
              : ""),
        },
        platformActionsStep(f),
        {
          title: "Check whether the VM rebooted",
          body: [
            "If you can log in, check when the guest last booted and read the end of the previous boot's kernel log " +
              "(the previous boot is kept only if the journal is persistent):",
            "$ uptime -s",
            "$ journalctl --list-boots | tail -n 3",
            "$ sudo journalctl -k -b -1 -n 100 --no-pager",
            '$ sudo journalctl -k -b -1 --no-pager | grep -iE "kernel panic|internal error|machine check|memory failure|hardware error"',
            "If kdump is set up, a crash dump may be in /var/crash:",
            "$ sudo ls -l /var/crash",
            "If the VM does not answer, stop it and start it again from the console or API (not a reboot from inside).",
          ].join("\n"),
        },
        {
          title: "Check services and data",
          body: [
            "After an unclean restart, file systems replay their journals and databases run crash recovery on start. Check " +
              "that every service came back and that recovery succeeded:",
            "$ systemctl list-units --state=failed",
            '$ sudo journalctl -b -k --no-pager | grep -iE "EXT4-fs|XFS|recovery|I/O error"',
            `Then check data written shortly before ${iso(f.firstErrorAt)}: read each database's log for recovery errors and run ` +
              "its consistency check (for example pg_amcheck for PostgreSQL, mysqlcheck --all-databases for MySQL or " +
              "MariaDB), and compare files that were being written with a replica or a backup:",
            `$ sudo find /path/to/data -type f -newermt "${journalSince(f.firstErrorAt)}"`,
          ].join("\n"),
        },
        stopStartStep(
          f,
          "The host under this VM has failing memory. Move the VM to healthy hardware:",
        ),
      ].filter(isStep),
  },

  "latent-memory-error": {
    version: 2,
    title: "A memory error was found in your VM's memory before it was used",
    steps: (f) =>
      [
        summaryStep(f),
        {
          title: "Impact",
          body: onlyHypervisorMemory(f)
            ? "None for the guest so far. The host found an uncorrectable error in memory that the hypervisor uses " +
              `itself to run VM ${f.vmName}, not in the VM's own memory: no process in the VM was affected, and the ` +
              "guest cannot see or use that memory. If the hypervisor later reads it, it cannot continue and the VM " +
              "is stopped; you would then receive a separate notice."
            : "None so far. The host's background memory check (scrubbing) found an uncorrectable error in memory that " +
              `belongs to VM ${f.vmName} before anything read it. No process was affected and the VM kept running. ` +
              "If the guest later reads that memory, the read fails instead of returning corrupted data, and the " +
              "process that read it is stopped; you would then receive a separate notice.",
        },
        platformActionsStep(f),
        {
          title: "What to do now",
          body: onlyHypervisorMemory(f)
            ? "Nothing is urgent, and nothing in the guest can notice this error, so its logs have nothing to show. " +
              "The memory belongs to this VM's hypervisor process: a stop and start (below) runs the VM in a new one."
            : [
                "Nothing is urgent.",
                !wasReportedToGuest(f)
                  ? "The platform did not report this error to the guest, so the guest kernel does not know the page " +
                    "is bad. To confirm that nothing in the guest noticed it:"
                  : arm64Replay(f)
                    ? "The platform reported the error to the guest. An arm64 guest takes the page out of service only " +
                      'if firmware also handed it an error record; a "Memory failure" line confirms it:'
                    : "The platform reported the error to the guest, so the guest kernel has probably retired the page " +
                      'itself. A "Memory failure" line confirms it:',
                `$ sudo journalctl -k --since "${journalSince(f.firstErrorAt)}" | grep -iE "memory failure|hardware error|mce"`,
              ].join("\n"),
        },
        hardOfflineStep(f),
        stopStartStep(
          f,
          "Memory that failed once often fails again. At a convenient time, move the VM to healthy hardware:",
        ),
      ].filter(isStep),
  },

  "vm-restarted": {
    version: 2,
    title: "Your VM was stopped or restarted after a memory error",
    steps: (f) =>
      [
        summaryStep(f),
        {
          title: "Impact",
          body:
            (onlyHypervisorMemory(f)
              ? `The memory error hit memory that the hypervisor uses itself to run VM ${f.vmName}, not the VM's own ` +
                "memory. The hypervisor cannot continue after that, so it "
              : `The memory error could not be contained inside VM ${f.vmName}, so the hypervisor `) +
            (f.actions.includes("vm_stopped")
              ? "stopped the VM. "
              : "reset (hard-restarted) the VM. ") +
            "For your workload this is like a sudden power loss: every process stopped, and data held only in memory " +
            "or not yet written to disk is lost." +
            (wasReportedToGuest(f)
              ? ""
              : " The guest operating system never saw the error, so its own logs say nothing about it: the " +
                "previous boot's log simply ends."),
        },
        platformActionsStep(f),
        {
          title: "Get the VM running",
          body: [
            f.actions.includes("vm_stopped")
              ? "Check the VM's state in the console. If it is stopped, start it: a start gives it fresh memory."
              : "The VM has already restarted. Confirm it, and see where the previous boot's log ends:",
            "$ uptime -s",
            "$ journalctl --list-boots | tail -n 3",
            "$ sudo journalctl -b -1 -n 50 --no-pager",
          ].join("\n"),
        },
        {
          title: "Check services and data",
          body: [
            "File systems replay their journals and databases run crash recovery on start. Check that every service " +
              "came back and that recovery succeeded:",
            "$ systemctl list-units --state=failed",
            '$ sudo journalctl -b -k --no-pager | grep -iE "EXT4-fs|XFS|recovery|I/O error"',
            `Then check data written shortly before ${iso(f.firstErrorAt)}: run each database's consistency check (for ` +
              "example pg_amcheck for PostgreSQL, mysqlcheck --all-databases for MySQL or MariaDB) and compare files " +
              "that were being written with a replica or a backup.",
          ].join("\n"),
        },
        stopStartStep(
          f,
          "The host under this VM has failing memory. Move the VM to healthy hardware:",
        ),
      ].filter(isStep),
  },

  "evacuation-scheduled": {
    version: 1,
    title: "Your VM will be restarted on a healthy host",
    steps: (f) => {
      const evac = f.evacuation;
      const when = evac ? iso(evac.scheduledFor) : null;
      const inProgress = evac?.status === "in_progress";
      return [
        summaryStep(f),
        {
          title: inProgress
            ? "The move is in progress"
            : "What happens, and when",
          body: [
            inProgress
              ? `The platform is moving VM ${f.vmName} to a healthy host now (it was scheduled for ${when}).`
              : when
                ? `At ${when} the platform will stop VM ${f.vmName} and start it again on a healthy host.`
                : `The platform will stop VM ${f.vmName} and start it again on a healthy host; the time will be announced.`,
            `Reason: the host under this VM has failing memory. ${thresholdLine(f)}`,
            "This is a restart, not a live migration: a VM with poisoned memory pages cannot be live-migrated, " +
              "because the hypervisor refuses to copy memory it knows is corrupt. The VM's configuration and its " +
              "persistent disks stay with it. Everything held only in memory is lost, as in a shutdown, and data on " +
              "instance-local (ephemeral) disks may not move with it. After the start the VM has fresh memory on " +
              "healthy hardware.",
          ].join("\n"),
        },
        platformActionsStep(f),
        {
          title: inProgress ? "While it moves" : "How to prepare",
          body: (inProgress
            ? [
                "Wait for the move to complete; you will be notified. If this VM was the primary node of a " +
                  "high-availability pair and you have not failed over yet, fail over to the secondary now.",
              ]
            : [
                `Before ${when ?? "the move"}:`,
                "- If this VM is the primary node of a high-availability pair (for example a Pacemaker cluster), fail " +
                  "over to the secondary.",
                "- Drain it from load balancers and pause scheduled jobs.",
                "- Stop databases and other stateful services cleanly, so that nothing depends on crash recovery:",
                "$ sudo systemctl stop your-database.service",
                "- Make sure your services start on boot:",
                "$ systemctl is-enabled your-service.service",
                "- Take a backup or snapshot of data you cannot rebuild.",
                "The platform stops the VM at the scheduled time whether or not services were shut down; treat it " +
                  "like a power-off unless you stopped them yourself. To choose the moment yourself, stop the VM and " +
                  "start it again from the console or API before then (a stop/start, not a reboot): a start also " +
                  "places the VM on healthy hardware.",
              ]
          ).join("\n"),
        },
        {
          title: "After the move",
          body: [
            "Check that the VM booted and that every service is running:",
            "$ uptime -s",
            "$ systemctl list-units --state=failed",
            "Then fail back if you failed over. The incident stays open until the VM has had no new memory error " +
              "for the quiet period.",
          ].join("\n"),
        },
      ].filter(isStep);
    },
  },

  "repeated-memory-errors": {
    version: 2,
    title: "Repeated memory errors on your VM",
    steps: (f) =>
      [
        summaryStep(f),
        {
          title: "Impact",
          body:
            `Since ${iso(f.firstErrorAt)}, ${f.errorCount} memory ${f.errorCount === 1 ? "error has" : "errors have"} hit ` +
            `${f.distinctPages} different memory pages of VM ${f.vmName}. Errors on several pages point at failing ` +
            "memory in the host, and more are likely. Each time a process reads a bad page, the guest kernel stops it." +
            (f.guestMode === "kernel"
              ? " At least one error was read by the guest kernel itself, which usually crashes the guest."
              : ""),
        },
        platformActionsStep(f),
        stopStartStep(
          f,
          "Move the VM to healthy hardware now rather than waiting for the platform to do it:",
        ),
        findProcessStep(f),
        pageRetiredStep(f),
        arm64Replay(f) === "without_record" ? null : dataLossStep(),
        checkDataStep(f, "processes"),
        hardOfflineStep(f),
      ].filter(isStep),
  },
};

function isStep(s: PlaybookStep | null): s is PlaybookStep {
  return s !== null;
}

export function isPlaybookKey(value: string): value is PlaybookKey {
  return (PLAYBOOK_KEYS as readonly string[]).includes(value);
}

function definitionOf(key: PlaybookKey): PlaybookDefinition {
  // Keys come from the database as text; an unknown one is a bug worth surfacing, not a silent default.
  if (!isPlaybookKey(key))
    throw new Error(`Unknown playbook key: ${String(key)}`);
  return CATALOG[key];
}

export function getPlaybookMeta(key: PlaybookKey): PlaybookMeta {
  const d = definitionOf(key);
  return { key, version: d.version, title: d.title };
}

export function fillPlaybook(
  key: PlaybookKey,
  facts: PlaybookFacts,
): FilledPlaybook {
  const d = definitionOf(key);
  return { key, version: d.version, title: d.title, steps: d.steps(facts) };
}

// Precedence: an active (scheduled / in-progress) evacuation > a restart or guest-kernel event playbook >
// two or more distinct pages > the event's own playbook. What the tenant must do next wins over counts.
export function choosePlaybookKey(input: {
  eventPlaybook: PlaybookKey;
  distinctPages: number;
  evacuation: { status: EvacuationStatus } | null;
}): PlaybookKey {
  const { eventPlaybook, distinctPages, evacuation } = input;
  if (
    evacuation &&
    (evacuation.status === "scheduled" || evacuation.status === "in_progress")
  ) {
    return "evacuation-scheduled";
  }
  if (
    eventPlaybook === "vm-restarted" ||
    eventPlaybook === "guest-kernel-memory-error"
  )
    return eventPlaybook;
  if (distinctPages >= 2) return "repeated-memory-errors";
  return eventPlaybook;
}
