import Link from "next/link";
import { redirect } from "next/navigation";
import { getViewer } from "@/server/auth";

export default async function Home() {
  const viewer = await getViewer();
  if (viewer?.tenant) redirect("/overview");
  return (
    <main className="mx-auto max-w-2xl px-6 py-20">
      <h1 className="text-3xl font-semibold tracking-tight">Poisonwatch</h1>
      <p className="mt-4 text-slate-600 dark:text-slate-300">
        Tells you when an uncorrectable memory error hits one of your virtual
        machines, what it did, what the platform already did about it, and what
        to do next.
      </p>
      <div className="mt-8 flex gap-4">
        <Link
          className="rounded-md bg-rose-700 px-4 py-2 font-medium text-white hover:bg-rose-800"
          href={viewer ? "/overview" : "/login"}
        >
          {viewer ? "Open the console" : "Sign in"}
        </Link>
        <a
          className="rounded-md border border-slate-300 px-4 py-2 dark:border-slate-700"
          href="/api/v1/openapi.json"
        >
          API (OpenAPI)
        </a>
      </div>
    </main>
  );
}
