import type { Metadata } from "next";
import Link from "next/link";
import { requireOperator } from "@/server/auth";
import { SignOutButton } from "@/app/_components/account";
import { TimeZoneProvider } from "@/app/_components/time";
import { OperatorNav } from "./_components/operator-nav";
import { SkipLink, viewerTimeZone } from "@/app/_components/shell";

export const metadata: Metadata = {
  title: {
    template: "%s · Operator · Poisonwatch",
    default: "Operator · Poisonwatch",
  },
  robots: { index: false },
};

// Operators only (OPERATOR_EMAILS or the demo operator); anyone else gets a 404, not a hint.
export default async function OperatorLayout({
  children,
}: {
  children: React.ReactNode;
}) {
  const viewer = await requireOperator();
  const tz = await viewerTimeZone();
  return (
    <TimeZoneProvider serverTimeZone={tz}>
      <SkipLink />
      <header className="bg-slate-900 text-white">
        <div className="mx-auto flex max-w-7xl flex-wrap items-center justify-between gap-x-4 gap-y-2 px-4 py-3 sm:px-6">
          <Link
            href="/operator"
            className="flex items-center gap-2 font-semibold tracking-tight focus-visible:outline-2 focus-visible:outline-rose-400"
          >
            <span
              aria-hidden
              className="grid h-7 w-7 place-items-center rounded-md bg-rose-700 text-sm font-bold"
            >
              P
            </span>
            <span>Poisonwatch</span>
            <span className="rounded bg-slate-700 px-1.5 py-0.5 text-xs font-medium tracking-wide uppercase">
              Operator
            </span>
          </Link>
          <div className="flex min-w-0 items-center gap-3 text-sm">
            <span className="hidden truncate text-slate-300 sm:inline">
              {viewer.email}
            </span>
            {viewer.tenant ? (
              <Link
                href="/overview"
                className="text-slate-200 underline-offset-2 hover:underline"
              >
                Tenant console
              </Link>
            ) : null}
            <span className="[&_button]:text-slate-100 [&_button:hover]:bg-slate-800">
              <SignOutButton />
            </span>
          </div>
        </div>
      </header>
      <OperatorNav />
      <main
        id="main"
        tabIndex={-1}
        className="mx-auto max-w-7xl px-4 py-6 outline-none sm:px-6 sm:py-8"
      >
        {children}
      </main>
    </TimeZoneProvider>
  );
}
