import Link from "next/link";

export default function ConsoleNotFound() {
  return (
    <div className="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-6 dark:border-slate-800 dark:bg-slate-900">
      <p className="text-sm font-semibold text-rose-700 dark:text-rose-300">
        404
      </p>
      <h1 className="mt-1 text-xl font-semibold">Not found</h1>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">
        There is nothing here in this tenant. The link may be wrong, or it
        belongs to another tenant.
      </p>
      <Link
        href="/overview"
        className="mt-4 inline-block text-sm font-medium text-rose-700 underline dark:text-rose-300"
      >
        Back to the overview
      </Link>
    </div>
  );
}
