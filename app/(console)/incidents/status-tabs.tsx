import Link from "next/link";
import { INCIDENT_STATUSES } from "@/db/constants";

export function StatusTabs({ current }: { current: string }) {
  const tabs = ["all", ...INCIDENT_STATUSES];
  return (
    <nav aria-label="Filter by status" className="mb-4 flex flex-wrap gap-2">
      {tabs.map((t) => (
        <Link
          key={t}
          href={t === "all" ? "/incidents" : `/incidents?status=${t}`}
          aria-current={current === t ? "page" : undefined}
          className={`rounded-full px-3 py-1 text-sm font-medium capitalize ring-1 ring-inset focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-rose-600 ${
            current === t
              ? "bg-rose-700 text-white ring-rose-700"
              : "bg-white text-slate-700 ring-slate-300 hover:bg-slate-50 dark:bg-slate-900 dark:text-slate-200 dark:ring-slate-700 dark:hover:bg-slate-800"
          }`}
        >
          {t}
        </Link>
      ))}
    </nav>
  );
}
