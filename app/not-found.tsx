import Link from "next/link";

export default function NotFound() {
  return (
    <main id="main" className="mx-auto max-w-xl px-6 py-20">
      <p className="text-sm font-semibold text-rose-700 dark:text-rose-300">
        404
      </p>
      <h1 className="mt-1 text-2xl font-semibold">Not found</h1>
      <p className="mt-2 text-slate-600 dark:text-slate-300">
        There is no page at this address.
      </p>
      <Link
        href="/"
        className="mt-6 inline-block font-medium text-rose-700 underline dark:text-rose-300"
      >
        Home
      </Link>
    </main>
  );
}
