const base =
  "inline-flex items-center rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset whitespace-nowrap";
const STATE: Record<string, string> = {
  healthy:
    "bg-emerald-50 text-emerald-800 ring-emerald-600/30 dark:bg-emerald-950/60 dark:text-emerald-200 dark:ring-emerald-400/40",
  degraded:
    "bg-amber-50 text-amber-900 ring-amber-600/30 dark:bg-amber-950/60 dark:text-amber-200 dark:ring-amber-400/40",
  evacuate:
    "bg-red-50 text-red-800 ring-red-600/30 dark:bg-red-950/60 dark:text-red-200 dark:ring-red-400/40",
};

export function HostStateBadge({ state }: { state: string }) {
  return (
    <span className={`${base} ${STATE[state] ?? STATE.healthy}`}>{state}</span>
  );
}

// Distinct pages against the evacuate threshold, with the degraded mark.
export function PressureMeter({
  pages,
  degraded,
  evacuate,
}: {
  pages: number;
  degraded: number;
  evacuate: number;
}) {
  const ratio = Math.min(1, pages / Math.max(1, evacuate));
  const color =
    pages >= evacuate
      ? "bg-red-600"
      : pages >= degraded
        ? "bg-amber-500"
        : "bg-emerald-600";
  return (
    <div className="flex items-center gap-2">
      <div
        role="meter"
        aria-valuemin={0}
        aria-valuemax={evacuate}
        aria-valuenow={pages}
        aria-label={`${pages} of ${evacuate} distinct pages (degraded at ${degraded})`}
        className="relative h-2 w-28 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
      >
        <div
          className={`h-full ${color}`}
          style={{ width: `${Math.max(ratio * 100, pages ? 5 : 0)}%` }}
        />
        <div
          aria-hidden
          className="absolute top-0 h-full w-px bg-slate-500"
          style={{ left: `${(degraded / Math.max(1, evacuate)) * 100}%` }}
        />
      </div>
      <span className="text-sm tabular-nums">
        {pages} / {evacuate}
      </span>
    </div>
  );
}

export const REASON_LABEL: Record<string, string> = {
  distinct_pages: "distinct pages",
  guest_kernel: "guest kernel",
  host_evacuate: "host evacuate",
  operator: "operator",
};
