"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

export type NavItem = { href: string; label: string; exact?: boolean };

const CONSOLE_ITEMS: NavItem[] = [
  { href: "/overview", label: "Overview" },
  { href: "/incidents", label: "Incidents" },
  { href: "/logs", label: "Logs" },
  { href: "/vms", label: "VMs" },
  { href: "/settings", label: "Settings" },
];

// The tab bar under the header; the tab of the current page (or of a page below it) is marked.
export function TabNav({ label, items }: { label: string; items: NavItem[] }) {
  const path = usePathname();
  return (
    <nav
      aria-label={label}
      className="border-b border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900"
    >
      {/* wraps on a phone instead of clipping its last tabs */}
      <ul className="mx-auto flex max-w-7xl flex-wrap gap-x-1 px-4 sm:flex-nowrap sm:overflow-x-auto sm:px-6">
        {items.map((i) => {
          const current = i.exact
            ? path === i.href
            : path === i.href || path.startsWith(`${i.href}/`);
          return (
            <li key={i.href}>
              <Link
                href={i.href}
                aria-current={current ? "page" : undefined}
                className={`block border-b-2 px-2.5 py-3 text-sm font-medium whitespace-nowrap focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-rose-600 sm:px-3 ${
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

export function ConsoleNav() {
  return <TabNav label="Console" items={CONSOLE_ITEMS} />;
}
