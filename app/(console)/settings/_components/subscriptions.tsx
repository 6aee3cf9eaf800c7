"use client";
import { useId } from "react";
import { CopyButton } from "@/app/_components/copy-button";
import { ConfirmButton } from "@/app/_components/dialog";
import { LocalTime } from "@/app/_components/time";
import {
  Card,
  inputClass,
  primaryButton,
  secondaryButton,
  Table,
  tdClass,
} from "@/app/_components/ui";

// What the webhook and the chat/paging channel pages share: error display, the subscription
// filters (event types, projects, description), the status pill and the delivery log.

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

// The first field error at a path or below it (eventTypes.2 counts for eventTypes).
export function errorAt(
  errors: Record<string, string>,
  key: string,
): string | undefined {
  return Object.entries(errors).find(
    ([p]) => p === key || p.startsWith(`${key}.`),
  )?.[1];
}

export function FieldError({ id, message }: { id: string; message?: string }) {
  return message ? (
    <p id={id} className="mt-1 text-sm text-red-700 dark:text-red-300">
      {message}
    </p>
  ) : null;
}

export function parseProjectIds(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((p) => p.trim())
    .filter(Boolean);
}

// The event types a subscription takes, as checkboxes.
export function EventTypesFieldset({
  types,
  selected,
  onChange,
  error,
  note,
}: {
  types: readonly string[];
  selected: string[];
  onChange: (next: string[]) => void;
  error?: string;
  note?: (type: string) => React.ReactNode;
}) {
  const errId = useId();
  return (
    <fieldset aria-describedby={error ? errId : undefined}>
      <legend className="mb-2 text-sm font-medium">Event types</legend>
      <div className="grid grid-cols-1 gap-2 sm:grid-cols-2">
        {types.map((t) => (
          <label key={t} className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              className="size-4 accent-rose-700 focus-visible:outline-2 focus-visible:outline-rose-600"
              checked={selected.includes(t)}
              onChange={(e) =>
                onChange(
                  e.target.checked
                    ? [...selected, t]
                    : selected.filter((x) => x !== t),
                )
              }
            />
            <span className="font-mono text-xs break-all">{t}</span>
            {note?.(t)}
          </label>
        ))}
      </div>
      <FieldError id={errId} message={error} />
    </fieldset>
  );
}

// The optional project filter and description of a new subscription.
export function ProjectsAndDescription({
  projects,
  onProjects,
  description,
  onDescription,
  projectsError,
  descriptionPlaceholder,
}: {
  projects: string;
  onProjects: (v: string) => void;
  description: string;
  onDescription: (v: string) => void;
  projectsError?: string;
  descriptionPlaceholder: string;
}) {
  const ids = { projects: useId(), projectsErr: useId(), description: useId() };
  return (
    <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
      <div>
        <label
          htmlFor={ids.projects}
          className="mb-1 block text-sm font-medium"
        >
          Only these projects (optional)
        </label>
        <input
          id={ids.projects}
          value={projects}
          onChange={(e) => onProjects(e.target.value)}
          className={`${inputClass} font-mono`}
          placeholder="project ids, comma-separated; empty: all"
          aria-invalid={projectsError ? true : undefined}
          aria-describedby={projectsError ? ids.projectsErr : undefined}
        />
        <FieldError id={ids.projectsErr} message={projectsError} />
      </div>
      <div>
        <label
          htmlFor={ids.description}
          className="mb-1 block text-sm font-medium"
        >
          Description (optional)
        </label>
        <input
          id={ids.description}
          value={description}
          maxLength={500}
          onChange={(e) => onDescription(e.target.value)}
          className={inputClass}
          placeholder={descriptionPlaceholder}
        />
      </div>
    </div>
  );
}

export type DeliveryAttempt = {
  at: string;
  statusCode: number | null;
  error?: string;
  latencyMs: number;
  responseExcerpt: string | null;
};
export type DeliveryRowView = {
  id: string;
  messageId: string;
  type: string;
  status: string;
  createdAt: string;
  nextAttemptAt: string | null;
  attempts: DeliveryAttempt[];
};

const answerClass = (a: DeliveryAttempt) =>
  a.statusCode && a.statusCode < 300
    ? "text-emerald-700 dark:text-emerald-300"
    : "text-red-700 dark:text-red-300";

// One attempt: when, what came back (status or error), how long it took, the answer's excerpt.
export function AttemptLine({
  a,
  open = false,
}: {
  a: DeliveryAttempt;
  open?: boolean;
}) {
  return (
    <>
      <span className="whitespace-nowrap">
        <LocalTime iso={a.at} />
      </span>{" "}
      <span className={`font-mono font-semibold ${answerClass(a)}`}>
        {a.statusCode ?? a.error ?? "no answer"}
      </span>
      {a.statusCode && a.error ? (
        <span className="text-red-700 dark:text-red-300"> {a.error}</span>
      ) : null}
      <span className="text-slate-600 dark:text-slate-400">
        {" "}
        · {a.latencyMs} ms
      </span>
      {a.responseExcerpt ? (
        <details className="mt-0.5" open={open}>
          <summary className="cursor-pointer text-slate-600 focus-visible:outline-2 focus-visible:outline-rose-600 dark:text-slate-400">
            Response
          </summary>
          <pre className="mt-1 max-h-40 max-w-md overflow-auto rounded bg-slate-50 p-2 font-mono text-xs break-all whitespace-pre-wrap dark:bg-slate-950">
            {a.responseExcerpt}
          </pre>
        </details>
      ) : null}
    </>
  );
}

// The deliveries of one subscription, newest first, each with every attempt; `action` adds a
// last column (the webhooks' Replay).
export function DeliveryTable({
  deliveries,
  caption,
  action,
}: {
  deliveries: DeliveryRowView[];
  caption: string;
  action?: { label: string; cell: (d: DeliveryRowView) => React.ReactNode };
}) {
  return (
    <Table
      caption={caption}
      columns={[
        "Message",
        "Status",
        "Attempts",
        action ? { label: action.label, hidden: true } : null,
      ]}
    >
      <tbody
        className="divide-y divide-slate-200 dark:divide-slate-800"
        data-testid="delivery-log"
      >
        {deliveries.map((d) => (
          <tr key={d.id} data-testid="delivery">
            <td className={`${tdClass} align-top`}>
              <p className="font-mono text-xs font-medium">{d.type}</p>
              <p
                className="font-mono text-xs text-slate-600 dark:text-slate-400"
                title="message id"
              >
                {d.messageId}
              </p>
              <p className="text-xs text-slate-600 dark:text-slate-400">
                <LocalTime iso={d.createdAt} />
              </p>
            </td>
            <td className={`${tdClass} align-top`}>
              <Pill status={d.status} />
              {d.nextAttemptAt ? (
                <p className="mt-0.5 text-xs whitespace-nowrap text-slate-600 dark:text-slate-400">
                  next <LocalTime iso={d.nextAttemptAt} />
                </p>
              ) : null}
            </td>
            <td className={`${tdClass} align-top`}>
              {d.attempts.length ? (
                <ol className="space-y-1">
                  {d.attempts.map((a, i) => (
                    <li key={i} className="text-xs">
                      <AttemptLine a={a} />
                    </li>
                  ))}
                </ol>
              ) : (
                <span className="text-xs text-slate-600 dark:text-slate-400">
                  none yet
                </span>
              )}
            </td>
            {action ? (
              <td className={`${tdClass} text-right align-top`}>
                {action.cell(d)}
              </td>
            ) : null}
          </tr>
        ))}
      </tbody>
    </Table>
  );
}

// A subscription's status in a list: the pill, and why it was disabled.
export function StatusCell({
  status,
  disabledReason,
}: {
  status: string;
  disabledReason?: string | null;
}) {
  return (
    <>
      <Pill status={status} />
      {disabledReason ? (
        <p className="mt-0.5 text-xs text-slate-600 dark:text-slate-400">
          {disabledReason}
        </p>
      ) : null}
    </>
  );
}

// The banner over a disabled subscription: why, what that means, and (for members) the way back.
export function DisabledNotice({
  noun,
  reason,
  meaning,
  action,
}: {
  noun: string;
  reason?: string | null;
  meaning: string;
  action?: React.ReactNode;
}) {
  return (
    <section
      aria-labelledby="disabled-title"
      className="rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm dark:border-amber-700 dark:bg-amber-950/50"
    >
      <h2
        id="disabled-title"
        className="font-semibold text-amber-950 dark:text-amber-100"
      >
        This {noun} is disabled
      </h2>
      <p
        className="mt-1 text-amber-900 dark:text-amber-200"
        data-testid="disabled-reason"
      >
        {reason
          ? `Reason: ${reason.replace(/\.$/, "")}.`
          : "No reason was recorded."}{" "}
        {meaning}
      </p>
      {action}
    </section>
  );
}

// The facts every subscription has, after its own (status, URL, id…).
export function filterFacts(s: {
  eventTypes: string[];
  projectIds?: string[] | null;
  description?: string | null;
  createdAt: string;
}): [string, React.ReactNode][] {
  return [
    [
      "Events",
      <span key="e" className="block break-words whitespace-normal">
        {s.eventTypes.join(", ")}
      </span>,
    ],
    [
      "Projects",
      <span key="p" className="block break-words whitespace-normal">
        {s.projectIds?.join(", ") ?? "all"}
      </span>,
    ],
    [
      "Description",
      <span key="d" className="block break-words whitespace-normal">
        {s.description ?? "—"}
      </span>,
    ],
    ["Created", <LocalTime key="c" iso={s.createdAt} seconds={false} />],
  ];
}

// "Disable" asks first in the console's dialog (pending messages fail); "Enable" does not.
export function EnableToggle({
  enabled,
  noun,
  busy,
  onChange,
}: {
  enabled: boolean;
  noun: string;
  busy: boolean;
  onChange: (status: "enabled" | "disabled") => void;
}) {
  return enabled ? (
    <ConfirmButton
      label="Disable"
      title={`Disable this ${noun}?`}
      className={secondaryButton}
      disabled={busy}
      onConfirm={() => onChange("disabled")}
    >
      <p>
        Its pending deliveries fail and nothing more is sent until you enable it
        again.
      </p>
    </ConfirmButton>
  ) : (
    <button
      type="button"
      className={secondaryButton}
      disabled={busy}
      onClick={() => onChange("enabled")}
    >
      Enable
    </button>
  );
}

// The delivery log's card: what it shows, a refresh, and the table (or its empty state).
export function DeliveryLogCard({
  intro,
  fetching,
  onRefresh,
  children,
}: {
  intro: string;
  fetching: boolean;
  onRefresh: () => void;
  children: React.ReactNode;
}) {
  return (
    <Card title="Delivery log" id="deliveries">
      <div className="flex flex-wrap items-center justify-between gap-2 px-4 pt-3">
        <p className="text-sm text-slate-600 dark:text-slate-300">{intro}</p>
        <button
          type="button"
          className={secondaryButton}
          onClick={onRefresh}
          disabled={fetching}
        >
          {fetching ? "Refreshing…" : "Refresh"}
        </button>
      </div>
      {children}
    </Card>
  );
}

// Sends one test message through the subscription (only while it is enabled).
export function SendTestButton({
  enabled,
  noun,
  busy,
  pending,
  onSend,
}: {
  enabled: boolean;
  noun: string;
  busy: boolean;
  pending: boolean;
  onSend: () => void;
}) {
  return (
    <button
      type="button"
      className={primaryButton}
      disabled={busy || !enabled}
      title={enabled ? undefined : `Enable the ${noun} to send a test`}
      onClick={onSend}
    >
      {pending ? "Sending…" : "Send test"}
    </button>
  );
}

// The create form's submit, held back until an event type is chosen.
export function CreateSubmit({
  label,
  pending,
  noTypes,
}: {
  label: string;
  pending: boolean;
  noTypes: boolean;
}) {
  return (
    <div className="flex flex-wrap items-center gap-3">
      <button
        type="submit"
        className={primaryButton}
        disabled={pending || noTypes}
      >
        {pending ? "Adding…" : label}
      </button>
      {noTypes ? (
        <p className="text-sm text-slate-600 dark:text-slate-400">
          Choose at least one event type.
        </p>
      ) : null}
    </div>
  );
}
