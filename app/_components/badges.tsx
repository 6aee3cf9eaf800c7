const base =
  "inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset whitespace-nowrap";

export function SeverityBadge({ severity }: { severity: string }) {
  const cls =
    severity === "CRITICAL"
      ? "bg-red-50 text-red-800 ring-red-600/30 dark:bg-red-950/60 dark:text-red-200 dark:ring-red-400/40"
      : "bg-amber-50 text-amber-900 ring-amber-600/30 dark:bg-amber-950/60 dark:text-amber-200 dark:ring-amber-400/40";
  return <span className={`${base} ${cls}`}>{severity}</span>;
}

const STATUS: Record<string, string> = {
  open: "bg-rose-50 text-rose-800 ring-rose-600/30 dark:bg-rose-950/60 dark:text-rose-200 dark:ring-rose-400/40",
  evacuating:
    "bg-violet-50 text-violet-800 ring-violet-600/30 dark:bg-violet-950/60 dark:text-violet-200 dark:ring-violet-400/40",
  resolved:
    "bg-emerald-50 text-emerald-800 ring-emerald-600/30 dark:bg-emerald-950/60 dark:text-emerald-200 dark:ring-emerald-400/40",
  running:
    "bg-emerald-50 text-emerald-800 ring-emerald-600/30 dark:bg-emerald-950/60 dark:text-emerald-200 dark:ring-emerald-400/40",
  stopped:
    "bg-slate-100 text-slate-700 ring-slate-500/30 dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-400/40",
  scheduled:
    "bg-violet-50 text-violet-800 ring-violet-600/30 dark:bg-violet-950/60 dark:text-violet-200 dark:ring-violet-400/40",
  in_progress:
    "bg-violet-50 text-violet-800 ring-violet-600/30 dark:bg-violet-950/60 dark:text-violet-200 dark:ring-violet-400/40",
  completed:
    "bg-emerald-50 text-emerald-800 ring-emerald-600/30 dark:bg-emerald-950/60 dark:text-emerald-200 dark:ring-emerald-400/40",
  cancelled:
    "bg-slate-100 text-slate-700 ring-slate-500/30 dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-400/40",
  outbox:
    "bg-sky-50 text-sky-800 ring-sky-600/30 dark:bg-sky-950/60 dark:text-sky-200 dark:ring-sky-400/40",
  queued:
    "bg-slate-100 text-slate-700 ring-slate-500/30 dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-400/40",
  sent: "bg-emerald-50 text-emerald-800 ring-emerald-600/30 dark:bg-emerald-950/60 dark:text-emerald-200 dark:ring-emerald-400/40",
  failed:
    "bg-red-50 text-red-800 ring-red-600/30 dark:bg-red-950/60 dark:text-red-200 dark:ring-red-400/40",
  owner:
    "bg-rose-50 text-rose-800 ring-rose-600/30 dark:bg-rose-950/60 dark:text-rose-200 dark:ring-rose-400/40",
  member:
    "bg-sky-50 text-sky-800 ring-sky-600/30 dark:bg-sky-950/60 dark:text-sky-200 dark:ring-sky-400/40",
  viewer:
    "bg-slate-100 text-slate-700 ring-slate-500/30 dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-400/40",
};

export function StatusBadge({
  status,
  label,
}: {
  status: string;
  label?: string;
}) {
  return (
    <span className={`${base} ${STATUS[status] ?? STATUS.stopped}`}>
      {label ?? status.replace("_", " ")}
    </span>
  );
}
