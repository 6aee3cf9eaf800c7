"use client";
import {
  useMutation,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { useId, useState } from "react";
import type { Role } from "@/db/constants";
import { SEVERITIES } from "@/db/constants";
import { useTRPC } from "@/app/_trpc/client";
import {
  Card,
  ErrorNote,
  inputClass,
  primaryButton,
} from "@/app/_components/ui";
import {
  fieldErrors,
  MemberOnlyNote,
  readableError,
} from "../_components/subscriptions";

type Recipients = "contacts" | "custom" | "nobody";

const radioClass =
  "size-4 accent-rose-700 focus-visible:outline-2 focus-visible:outline-rose-600";
const legendClass =
  "mb-2 text-sm font-semibold text-slate-900 dark:text-slate-100";

export function NotificationsView({ role }: { role: Role }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { data } = useSuspenseQuery(trpc.notification.settings.queryOptions());
  const canEdit = role !== "viewer";
  const [recipients, setRecipients] = useState<Recipients>(
    data.emails === null
      ? "contacts"
      : data.emails.length
        ? "custom"
        : "nobody",
  );
  const [emails, setEmails] = useState((data.emails ?? []).join("\n"));
  const [minSeverity, setMinSeverity] = useState(data.minSeverity);
  const [digest, setDigest] = useState(data.digest);
  const [saved, setSaved] = useState(false);
  const save = useMutation(
    trpc.notification.updateSettings.mutationOptions({
      onSuccess: () => {
        setSaved(true);
        return qc.invalidateQueries({
          queryKey: trpc.notification.settings.queryKey(),
        });
      },
    }),
  );
  const ids = {
    emails: useId(),
    emailsHelp: useId(),
    emailsError: useId(),
    digest: useId(),
  };
  const errors = fieldErrors(save.error);
  const emailsError = Object.entries(errors).find(
    ([k]) => k === "emails" || k.startsWith("emails."),
  )?.[1];
  const list = emails
    .split(/[\s,;]+/)
    .map((e) => e.trim())
    .filter(Boolean);

  return (
    <form
      className="space-y-6"
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        save.mutate({
          emails:
            recipients === "contacts"
              ? null
              : recipients === "nobody"
                ? []
                : list,
          minSeverity,
          digest,
        });
      }}
    >
      <Card title="Email notifications" id="email-notifications">
        <fieldset disabled={!canEdit} className="space-y-6 p-4">
          {!canEdit ? (
            <MemberOnlyNote what="change notification settings" role={role} />
          ) : null}
          <fieldset>
            <legend className={legendClass}>Who gets incident emails</legend>
            <div className="space-y-2">
              <label className="flex items-start gap-2 text-sm">
                <input
                  type="radio"
                  name="recipients"
                  value="contacts"
                  className={`${radioClass} mt-0.5`}
                  checked={recipients === "contacts"}
                  onChange={() => setRecipients("contacts")}
                />
                <span>
                  The tenant&apos;s contact emails
                  <span className="block text-slate-600 dark:text-slate-400">
                    {data.contactEmails.length
                      ? data.contactEmails.join(", ")
                      : "No contact emails are set for this tenant."}
                  </span>
                </span>
              </label>
              <label className="flex items-start gap-2 text-sm">
                <input
                  type="radio"
                  name="recipients"
                  value="custom"
                  className={`${radioClass} mt-0.5`}
                  checked={recipients === "custom"}
                  onChange={() => setRecipients("custom")}
                />
                <span>A list of addresses</span>
              </label>
              {recipients === "custom" ? (
                <div className="ml-6">
                  <label
                    htmlFor={ids.emails}
                    className="mb-1 block text-sm font-medium"
                  >
                    Email addresses
                  </label>
                  <textarea
                    id={ids.emails}
                    rows={4}
                    value={emails}
                    onChange={(e) => setEmails(e.target.value)}
                    className={`${inputClass} font-mono`}
                    aria-describedby={`${ids.emailsHelp}${emailsError ? ` ${ids.emailsError}` : ""}`}
                    aria-invalid={emailsError ? true : undefined}
                    placeholder={"oncall@example.com\nsre@example.com"}
                  />
                  <p
                    id={ids.emailsHelp}
                    className="mt-1 text-xs text-slate-600 dark:text-slate-400"
                  >
                    One per line (or separated by commas), at most 50.
                  </p>
                  {emailsError ? (
                    <p
                      id={ids.emailsError}
                      role="alert"
                      className="mt-1 text-sm text-red-700 dark:text-red-300"
                    >
                      {emailsError}
                    </p>
                  ) : null}
                </div>
              ) : null}
              <label className="flex items-start gap-2 text-sm">
                <input
                  type="radio"
                  name="recipients"
                  value="nobody"
                  className={`${radioClass} mt-0.5`}
                  checked={recipients === "nobody"}
                  onChange={() => setRecipients("nobody")}
                />
                <span>Nobody (webhooks only)</span>
              </label>
            </div>
          </fieldset>
          <fieldset>
            <legend className={legendClass}>
              Lowest severity that sends an email
            </legend>
            <div className="flex flex-wrap gap-4">
              {SEVERITIES.map((s) => (
                <label key={s} className="flex items-center gap-2 text-sm">
                  <input
                    type="radio"
                    name="minSeverity"
                    value={s}
                    className={radioClass}
                    checked={minSeverity === s}
                    onChange={() => setMinSeverity(s)}
                  />
                  {s === "WARNING" ? "WARNING and CRITICAL" : "CRITICAL only"}
                </label>
              ))}
            </div>
          </fieldset>
          <div className="max-w-xs">
            <label htmlFor={ids.digest} className={`${legendClass} block`}>
              Digest
            </label>
            <select
              id={ids.digest}
              value={digest}
              onChange={(e) => setDigest(e.target.value as typeof digest)}
              className={inputClass}
            >
              <option value="off">Off</option>
              <option value="daily">Daily (UTC midnight)</option>
            </select>
          </div>
          {canEdit ? (
            <div className="flex flex-wrap items-center gap-3">
              <button
                type="submit"
                className={primaryButton}
                disabled={save.isPending}
              >
                {save.isPending ? "Saving…" : "Save"}
              </button>
              {saved && !save.isPending ? (
                <p
                  role="status"
                  className="text-sm text-emerald-700 dark:text-emerald-300"
                >
                  Saved.
                </p>
              ) : null}
            </div>
          ) : null}
          {emailsError ? null : <ErrorNote error={readableError(save.error)} />}
        </fieldset>
      </Card>
    </form>
  );
}
