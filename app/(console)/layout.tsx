import type { Metadata } from "next";
import Link from "next/link";
import { requireViewer } from "@/server/auth";
import { SignOutButton, TenantSwitcher } from "@/app/_components/account";
import { StatusBadge } from "@/app/_components/badges";
import { LiveProvider } from "@/app/_components/live";
import { ConsoleNav } from "@/app/_components/nav";
import { TimeZoneProvider } from "@/app/_components/time";
import { SkipLink, viewerTimeZone } from "@/app/_components/shell";

export const metadata: Metadata = { robots: { index: false } };

// Every console page needs a session; the tenant is the session's membership (tenant switcher).
export default async function ConsoleLayout({
  children,
}: {
  children: React.ReactNode;
}) {
  const viewer = await requireViewer();
  const tz = await viewerTimeZone();
  return (
    <TimeZoneProvider serverTimeZone={tz}>
      <SkipLink />
      <header className="bg-white dark:bg-slate-900">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3 sm:px-6">
          <div className="flex min-w-0 items-center gap-3">
            <Link
              href="/overview"
              className="flex items-center gap-2 font-semibold tracking-tight focus-visible:outline-2 focus-visible:outline-rose-600"
            >
              <span
                aria-hidden
                className="grid h-7 w-7 place-items-center rounded-md bg-rose-700 text-sm font-bold text-white"
              >
                P
              </span>
              <span>Poisonwatch</span>
            </Link>
            {viewer.tenant ? (
              <>
                <span
                  aria-hidden
                  className="text-slate-300 dark:text-slate-600"
                >
                  /
                </span>
                <TenantSwitcher
                  memberships={viewer.memberships}
                  activeTenantId={viewer.tenant.tenantId}
                />
              </>
            ) : null}
          </div>
          <div className="flex min-w-0 items-center gap-3 text-sm">
            <span className="hidden truncate text-slate-600 sm:inline dark:text-slate-300">
              {viewer.email}
            </span>
            {viewer.tenant ? <StatusBadge status={viewer.tenant.role} /> : null}
            <SignOutButton />
          </div>
        </div>
      </header>
      {viewer.tenant ? <ConsoleNav /> : null}
      <main
        id="main"
        tabIndex={-1}
        className="mx-auto max-w-7xl px-4 py-6 outline-none sm:px-6 sm:py-8"
      >
        {viewer.tenant ? (
          <LiveProvider>{children}</LiveProvider>
        ) : (
          <div className="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
            <h1 className="text-xl font-semibold">No tenant yet</h1>
            <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">
              You are signed in as {viewer.email}, but this address is not a
              member of any tenant. Ask an owner of your tenant to invite you.
            </p>
            {viewer.isOperator ? (
              <p className="mt-4 text-sm">
                You are an operator: open the{" "}
                <a
                  className="font-medium text-rose-700 underline dark:text-rose-300"
                  href="/operator"
                >
                  operator console
                </a>
                .
              </p>
            ) : null}
          </div>
        )}
      </main>
    </TimeZoneProvider>
  );
}
