import { CopyButton } from "@/app/_components/copy-button";

// Field errors of a tRPC error (the errorFormatter's data.details), by path.
export function fieldErrors(error: unknown): Record<string, string> {
  const details = (
    error as {
      data?: { details?: { path: string; message: string }[] | null };
    } | null
  )?.data?.details;
  const out: Record<string, string> = {};
  for (const d of details ?? []) out[d.path] ??= d.message;
  return out;
}

// The error for an ErrorNote: input validation answers carry zod's issues as JSON in the
// message; show their field messages instead.
export function readableError(
  error: { message: string } | null | undefined,
): { message: string } | null {
  if (!error) return null;
  const details = (
    error as { data?: { details?: { path: string; message: string }[] | null } }
  ).data?.details;
  if (details?.length && error.message.trimStart().startsWith("[")) {
    return {
      message: details
        .map((d) => (d.path ? `${d.path}: ${d.message}` : d.message))
        .join("; "),
    };
  }
  return error;
}

export function MemberOnlyNote({ what, role }: { what: string; role: string }) {
  return (
    <p className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-700 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-300">
      Only members and owners can {what}. You are a {role} of this tenant.
    </p>
  );
}

const pill =
  "inline-flex items-center rounded-full px-2 py-0.5 text-xs font-semibold ring-1 ring-inset whitespace-nowrap";
const PILL: Record<string, string> = {
  enabled:
    "bg-emerald-50 text-emerald-800 ring-emerald-600/30 dark:bg-emerald-950/60 dark:text-emerald-200 dark:ring-emerald-400/40",
  succeeded:
    "bg-emerald-50 text-emerald-800 ring-emerald-600/30 dark:bg-emerald-950/60 dark:text-emerald-200 dark:ring-emerald-400/40",
  pending:
    "bg-amber-50 text-amber-900 ring-amber-600/30 dark:bg-amber-950/60 dark:text-amber-200 dark:ring-amber-400/40",
  disabled:
    "bg-slate-100 text-slate-700 ring-slate-500/30 dark:bg-slate-800 dark:text-slate-200 dark:ring-slate-400/40",
  failed:
    "bg-red-50 text-red-800 ring-red-600/30 dark:bg-red-950/60 dark:text-red-200 dark:ring-red-400/40",
};

export function Pill({ status }: { status: string }) {
  return (
    <span className={`${pill} ${PILL[status] ?? PILL.disabled}`}>{status}</span>
  );
}

// The signing secret, shown once after create or rotate.
export function SecretOnce({
  secret,
  title,
  note,
  onDone,
}: {
  secret: string;
  title: string;
  note?: React.ReactNode;
  onDone: () => void;
}) {
  return (
    <section
      aria-labelledby="secret-title"
      className="rounded-lg border border-amber-300 bg-amber-50 p-4 dark:border-amber-700 dark:bg-amber-950/50"
    >
      <h2
        id="secret-title"
        className="font-semibold text-amber-950 dark:text-amber-100"
      >
        {title}
      </h2>
      <p className="mt-1 text-sm text-amber-900 dark:text-amber-200">
        Copy the signing secret now: it is shown only this once. Verify each
        message&apos;s <code className="font-mono">webhook-signature</code> with
        it (Standard Webhooks).{note ? <> {note}</> : null}
      </p>
      <div className="mt-3 flex flex-wrap items-center gap-2">
        <code
          data-testid="webhook-secret"
          className="rounded bg-white px-2 py-1 font-mono text-sm break-all dark:bg-slate-950"
        >
          {secret}
        </code>
        <CopyButton text={secret} />
        <button
          type="button"
          className="text-sm underline focus-visible:outline-2 focus-visible:outline-rose-600"
          onClick={onDone}
        >
          Done
        </button>
      </div>
    </section>
  );
}
