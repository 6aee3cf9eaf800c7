import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { getViewer } from "@/server/auth";
import { env } from "@/server/env";
import { LoginForm } from "./login-form";

export const metadata: Metadata = { title: "Sign in" };

const ERRORS: Record<string, string> = {
  INVALID_TOKEN:
    "That sign-in link was already used or has expired. Request a new one below.",
  EXPIRED_TOKEN: "That sign-in link has expired. Request a new one below.",
};

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const viewer = await getViewer();
  if (viewer)
    redirect(viewer.tenant || !viewer.isOperator ? "/overview" : "/operator");
  const sp = await searchParams;
  const error =
    typeof sp.error === "string"
      ? (ERRORS[sp.error] ?? "Sign-in failed. Request a new link below.")
      : null;
  return (
    <main
      id="main"
      className="mx-auto flex min-h-screen max-w-md flex-col justify-center px-4 py-12"
    >
      <Link
        href="/"
        className="mb-8 flex items-center gap-2 font-semibold tracking-tight"
      >
        <span
          aria-hidden
          className="grid h-8 w-8 place-items-center rounded-md bg-rose-700 font-bold text-white"
        >
          P
        </span>
        Poisonwatch
      </Link>
      <h1 className="text-2xl font-semibold tracking-tight">Sign in</h1>
      <p className="mt-2 text-sm text-slate-600 dark:text-slate-300">
        We email you a one-time sign-in link. No password.
      </p>
      {error ? (
        <p
          role="alert"
          className="mt-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950/60 dark:text-amber-100"
        >
          {error}
        </p>
      ) : null}
      <LoginForm emailConfigured={Boolean(env().RESEND_API_KEY)} />
    </main>
  );
}
