import Link from "next/link";
import { StackLabels } from "./stack-labels";

// "Parent / this page" above a detail page's heading.
export function Breadcrumb({
  href,
  label,
  current,
  mono = true,
}: {
  href: string;
  label: string;
  current: string;
  mono?: boolean;
}) {
  return (
    <nav aria-label="Breadcrumb" className="mb-2 text-sm">
      <Link href={href} className={linkClass}>
        {label}
      </Link>
      <span aria-hidden className="mx-2 text-slate-400">
        /
      </span>
      <span className={mono ? "font-mono text-xs break-all" : "break-words"}>
        {current}
      </span>
    </nav>
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: React.ReactNode;
  description?: React.ReactNode;
  actions?: React.ReactNode;
}) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div className="min-w-0">
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900 dark:text-slate-50">
          {title}
        </h1>
        {description ? (
          <p className="mt-1 max-w-3xl text-sm text-slate-600 dark:text-slate-300">
            {description}
          </p>
        ) : null}
      </div>
      {actions ? <div className="flex flex-wrap gap-2">{actions}</div> : null}
    </div>
  );
}

export function Card({
  children,
  className = "",
  title,
  headingLevel = 2,
  id,
}: {
  children: React.ReactNode;
  className?: string;
  title?: React.ReactNode;
  headingLevel?: 2 | 3;
  id?: string;
}) {
  const H = headingLevel === 2 ? "h2" : "h3";
  return (
    <section
      id={id}
      aria-labelledby={id && title ? `${id}-title` : undefined}
      className={`rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900 ${className}`}
    >
      {title ? (
        <H
          id={id ? `${id}-title` : undefined}
          className="border-b border-slate-200 px-4 py-3 text-base font-semibold dark:border-slate-800"
        >
          {title}
        </H>
      ) : null}
      {children}
    </section>
  );
}

export function EmptyState({
  title,
  children,
}: {
  title: string;
  children?: React.ReactNode;
}) {
  return (
    <div className="px-4 py-10 text-center">
      <p className="font-medium text-slate-800 dark:text-slate-100">{title}</p>
      {children ? (
        <div className="mt-1 text-sm text-slate-600 dark:text-slate-300">
          {children}
        </div>
      ) : null}
    </div>
  );
}

export function ErrorNote({
  error,
}: {
  error: { message: string } | null | undefined;
}) {
  if (!error) return null;
  return (
    <p
      role="alert"
      className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-800 dark:bg-red-950/60 dark:text-red-200"
    >
      {error.message}
    </p>
  );
}

export function Skeleton({ className = "" }: { className?: string }) {
  return (
    <div
      aria-hidden
      className={`animate-pulse rounded bg-slate-200 dark:bg-slate-800 ${className}`}
    />
  );
}

export function TableSkeleton({
  rows = 6,
  label = "Loading",
}: {
  rows?: number;
  label?: string;
}) {
  return (
    <div role="status" aria-live="polite" className="space-y-3 p-4">
      <span className="sr-only">{label}…</span>
      {Array.from({ length: rows }, (_, i) => (
        <Skeleton key={i} className="h-5 w-full" />
      ))}
    </div>
  );
}

export const linkClass =
  "font-medium text-rose-700 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-rose-600 dark:text-rose-300";

export function TextLink({
  href,
  children,
  className = "",
}: {
  href: string;
  children: React.ReactNode;
  className?: string;
}) {
  return (
    <Link href={href} className={`${linkClass} ${className}`}>
      {children}
    </Link>
  );
}

export const buttonClass =
  "inline-flex items-center justify-center gap-2 rounded-md px-3 py-2 text-sm font-medium shadow-sm transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-rose-600 disabled:cursor-not-allowed disabled:opacity-50";
export const primaryButton = `${buttonClass} bg-rose-700 text-white hover:bg-rose-800`;
export const secondaryButton = `${buttonClass} border border-slate-300 bg-white text-slate-800 hover:bg-slate-50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100 dark:hover:bg-slate-800`;
export const dangerButton = `${buttonClass} border border-red-300 bg-white text-red-700 hover:bg-red-50 dark:border-red-800 dark:bg-slate-900 dark:text-red-300 dark:hover:bg-red-950`;

export const inputClass =
  "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm placeholder:text-slate-400 focus:border-rose-600 focus:outline-2 focus:outline-rose-600/40 dark:border-slate-700 dark:bg-slate-950 dark:text-slate-100";

const thClass =
  "px-4 py-2 text-left text-xs font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-300";
export const tdClass = "px-4 py-2 align-baseline text-sm";

// A column heading: its text, or { label, hidden } for one only screen readers announce (e.g. the
// actions column), or { label, numeric } for a right-aligned one. A falsy entry is a column left
// out (e.g. for a viewer).
export type Column =
  | string
  | { label: string; hidden?: boolean; numeric?: boolean }
  | false
  | null;

export function Table({
  children,
  caption,
  columns,
}: {
  children: React.ReactNode;
  caption: string;
  columns: Column[];
}) {
  return (
    // relative: the screen-reader-only texts inside must not widen the page when the table scrolls
    <div className="relative overflow-x-auto">
      <table className="pw-stack min-w-full divide-y divide-slate-200 dark:divide-slate-800">
        <caption className="sr-only">
          {caption}
          <StackLabels
            labels={columns
              .filter((c) => c)
              .map((c) =>
                typeof c === "string" ? c : c && !c.hidden ? c.label : "",
              )}
          />
        </caption>
        <thead className="bg-slate-50 dark:bg-slate-900/60">
          <tr>
            {columns.map((c) => {
              if (!c) return null;
              const col = typeof c === "string" ? { label: c } : c;
              return (
                <th
                  key={col.label}
                  scope="col"
                  className={col.numeric ? `${thClass} text-right` : thClass}
                >
                  {col.hidden ? (
                    <span className="sr-only">{col.label}</span>
                  ) : (
                    col.label
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        {children}
      </table>
    </div>
  );
}

export function Facts({ items }: { items: [string, React.ReactNode][] }) {
  return (
    <dl className="grid grid-cols-1 gap-x-6 gap-y-3 p-4 sm:grid-cols-2 lg:grid-cols-3">
      {items.map(([k, v]) => (
        <div key={k} className="min-w-0">
          <dt className="text-xs font-medium tracking-wide text-slate-500 uppercase dark:text-slate-400">
            {k}
          </dt>
          <dd className="mt-0.5 truncate text-sm text-slate-900 dark:text-slate-100">
            {v}
          </dd>
        </div>
      ))}
    </dl>
  );
}

type PagedQuery = {
  hasNextPage: boolean;
  isFetchingNextPage: boolean;
  fetchNextPage: () => unknown;
};

// The footer of a paged list: nothing once there is no next page.
export function LoadMore({
  q,
  label = "Load more",
}: {
  q: PagedQuery;
  label?: string;
}) {
  if (!q.hasNextPage) return null;
  return (
    <div className="border-t border-slate-200 p-3 text-center dark:border-slate-800">
      <button
        type="button"
        className={secondaryButton}
        disabled={q.isFetchingNextPage}
        onClick={() => void q.fetchNextPage()}
      >
        {q.isFetchingNextPage ? "Loading…" : label}
      </button>
    </div>
  );
}
