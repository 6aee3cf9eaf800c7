// An incident's human name: its VM and what happened ("db-1 — restarting on a healthy host"), for
// tables, page titles, email subjects and chat. Pure, and here because emails are pure templates
// that import nothing from server/ or db/; the console and server/notify import it from here.

type Nameable = {
  vmName: string;
  status: "open" | "evacuating" | "resolved";
  playbook: { key: string };
  evacuation: {
    status: "scheduled" | "in_progress" | "completed" | "cancelled";
  } | null;
};

const BY_PLAYBOOK: Record<string, string> = {
  "user-process-memory-error": "memory error in a user process",
  "guest-kernel-memory-error": "memory error in the guest kernel",
  "latent-memory-error": "latent memory error found by scrubbing",
  "vm-restarted": "VM stopped or reset by a memory error",
  "repeated-memory-errors": "repeated memory errors",
  "evacuation-scheduled": "restart on a healthy host scheduled",
};

export function whatHappened(i: Omit<Nameable, "vmName">): string {
  switch (i.evacuation?.status) {
    case "scheduled":
      return "restart on a healthy host scheduled";
    case "in_progress":
      return "restarting on a healthy host";
    case "completed":
      return "restarted on a healthy host";
    default:
      return BY_PLAYBOOK[i.playbook.key] ?? "memory error";
  }
}

export function incidentName(i: Nameable): string {
  return `${i.vmName} — ${whatHappened(i)}`;
}
