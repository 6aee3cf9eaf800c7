// An incident's human name: its VM and what happened ("db-1 — restarting on a healthy host"), for
// tables, page titles, email subjects and chat. Pure: the console's client code uses it too.

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

// The one thing to do before a restart, from the filled playbook: the first instruction of its
// "How to prepare" (or "While it moves") step, else that step's title.
export function actionBeforeRestart(
  steps: { title: string; body: string }[],
): string | null {
  const step = steps.find((s) =>
    /prepare|while it moves|before/i.test(s.title),
  );
  if (!step) return null;
  const first = step.body
    .split("\n")
    .map((l) => l.trim())
    .find(
      (l) =>
        l.startsWith("- ") ||
        (!l.startsWith("$") && !l.endsWith(":") && l.length > 0),
    );
  return first ? first.replace(/^- /, "") : step.title;
}
