"use client";
import { useId, useState } from "react";

export function LoginForm({ emailConfigured }: { emailConfigured: boolean }) {
  const [email, setEmail] = useState("");
  const [state, setState] = useState<
    { kind: "idle" | "sending" | "sent" } | { kind: "error"; message: string }
  >({ kind: "idle" });
  const id = useId();
  return (
    <>
      <form
        className="mt-6 space-y-4"
        onSubmit={async (e) => {
          e.preventDefault();
          setState({ kind: "sending" });
          try {
            const res = await fetch("/api/auth/sign-in/magic-link", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                email,
                callbackURL: "/overview",
                errorCallbackURL: "/login",
              }),
            });
            if (res.status === 429) {
              const wait = Number(res.headers.get("retry-after"));
              const when =
                Number.isFinite(wait) && wait > 0
                  ? `in ${wait > 90 ? `${Math.ceil(wait / 60)} minutes` : `${wait} seconds`}`
                  : "later";
              setState({
                kind: "error",
                message: `Too many sign-in links for this address. Try again ${when}.`,
              });
              return;
            }
            if (!res.ok) {
              // our errors are { error: { message } }, better-auth's own { message }
              const body = (await res.json().catch(() => null)) as {
                message?: string;
                error?: { message?: string };
              } | null;
              setState({
                kind: "error",
                message:
                  body?.error?.message ??
                  body?.message ??
                  `Could not send the link (${res.status}).`,
              });
              return;
            }
            setState({ kind: "sent" });
          } catch {
            setState({
              kind: "error",
              message:
                "Could not reach the server. Check your connection and try again.",
            });
          }
        }}
      >
        <div>
          <label htmlFor={id} className="mb-1 block text-sm font-medium">
            Work email
          </label>
          <input
            id={id}
            type="email"
            required
            autoComplete="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-slate-900 shadow-sm focus:border-rose-600 focus:outline-2 focus:outline-rose-600/40 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100"
          />
        </div>
        <button
          type="submit"
          disabled={state.kind === "sending"}
          className="w-full rounded-md bg-rose-700 px-4 py-2 font-medium text-white shadow-sm hover:bg-rose-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-rose-600 disabled:opacity-60"
        >
          {state.kind === "sending" ? "Sending…" : "Email me a sign-in link"}
        </button>
      </form>
      <div aria-live="polite" className="mt-4">
        {state.kind === "sent" ? (
          <div className="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-3 text-sm text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950/60 dark:text-emerald-100">
            <p className="font-medium">Check your email.</p>
            <p className="mt-1">
              If {email} belongs to a member of a tenant, a sign-in link is on
              its way. It works once, for 15 minutes.
            </p>
            {!emailConfigured ? (
              <p className="mt-2">
                This installation sends no real email yet (no RESEND_API_KEY):
                the message is in the built-in outbox, which only the operator
                of this installation can open (Operator console → Outbox). Ask
                them for it, or use the one-time link the start command printed.
              </p>
            ) : null}
          </div>
        ) : null}
        {state.kind === "error" ? (
          <p
            role="alert"
            className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-800 dark:bg-red-950/60 dark:text-red-200"
          >
            {state.message}
          </p>
        ) : null}
      </div>
    </>
  );
}
