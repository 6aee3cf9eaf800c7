"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

const ITEMS = [
  { href: "/operator", label: "Fleet", exact: true },
  { href: "/operator/hosts", label: "Hosts" },
  { href: "/operator/evacuations", label: "Evacuations" },
  { href: "/operator/policy", label: "Policy" },
];

export function OperatorNav() {
  const path = usePathname();
  return (
    <nav aria-label="Operator console" className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900">
      <ul className="mx-auto flex max-w-7xl gap-1 overflow-x-auto px-4 sm:px-6">
        {ITEMS.map((i) => {
          const current = i.exact ? path === i.href : path === i.href || path.startsWith(`${i.href}/`);
          return (
            <li key={i.href}>
              <Link
                href={i.href}
                aria-current={current ? "page" : undefined}
                className={`block whitespace-nowrap border-b-2 px-3 py-3 text-sm font-medium focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-rose-600 ${
                  current
                    ? "border-rose-600 text-rose-700 dark:border-rose-400 dark:text-rose-300"
                    : "border-transparent text-slate-600 hover:border-slate-300 hover:text-slate-900 dark:text-slate-300 dark:hover:text-white"
                }`}
              >
                {i.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
