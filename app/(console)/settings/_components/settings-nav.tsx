"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";

// Settings sections. Notification settings and webhook endpoints come from the notifications
// work: add their entries here (e.g. { href: "/settings/notifications", label: "Notifications" }).
export const SETTINGS_SECTIONS: { href: string; label: string }[] = [
  { href: "/settings/members", label: "Members" },
  { href: "/settings/api-keys", label: "API keys" },
  { href: "/settings/notifications", label: "Notifications" },
  { href: "/settings/webhooks", label: "Webhooks" },
  { href: "/settings/channels/slack", label: "Slack" },
  { href: "/settings/channels/teams", label: "Teams" },
  { href: "/settings/channels/pagerduty", label: "PagerDuty" },
  { href: "/settings/feeds", label: "Feeds" },
  { href: "/settings/audit", label: "Audit log" },
  { href: "/settings/outbox", label: "Outbox" },
];

export function SettingsNav() {
  const path = usePathname();
  return (
    <nav aria-label="Settings">
      <ul className="flex flex-wrap gap-1 md:flex-col">
        {SETTINGS_SECTIONS.map((s) => {
          const current = path === s.href || path.startsWith(`${s.href}/`);
          return (
            <li key={s.href}>
              <Link
                href={s.href}
                aria-current={current ? "page" : undefined}
                className={`block rounded-md px-3 py-2 text-sm font-medium whitespace-nowrap focus-visible:outline-2 focus-visible:outline-rose-600 ${
                  current
                    ? "bg-rose-50 text-rose-800 dark:bg-rose-950/60 dark:text-rose-200"
                    : "text-slate-700 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800"
                }`}
              >
                {s.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
