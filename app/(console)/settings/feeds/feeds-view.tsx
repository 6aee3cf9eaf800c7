"use client";
import {
  useMutation,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { useState } from "react";
import type { Role } from "@/db/constants";
import { useTRPC } from "@/app/_trpc/client";
import { CopyButton } from "@/app/_components/copy-button";
import { ConfirmButton } from "@/app/_components/dialog";
import { LocalTime } from "@/app/_components/time";
import {
  Card,
  dangerButton,
  EmptyState,
  ErrorNote,
  primaryButton,
  Table,
  tdClass,
} from "@/app/_components/ui";

const FEEDS = [
  {
    path: "/api/v1/feeds/incidents.atom",
    label: "Incidents (Atom)",
    use: "a feed reader, or a chat tool's RSS/Atom integration",
  },
  {
    path: "/api/v1/feeds/evacuations.ics",
    label: "Evacuations (iCalendar)",
    use: "a calendar: Google Calendar, Outlook or Apple Calendar (subscribe by URL)",
  },
];

function feedUrl(baseUrl: string, path: string, token: string) {
  return `${baseUrl}${path}?token=${encodeURIComponent(token)}`;
}

export function FeedsView({ role, baseUrl }: { role: Role; baseUrl: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { data } = useSuspenseQuery(trpc.feed.listTokens.queryOptions());
  const canChange = role !== "viewer";
  const refresh = () =>
    qc.invalidateQueries({ queryKey: trpc.feed.listTokens.queryKey() });
  const [made, setMade] = useState<{ id: string; token: string } | null>(null);
  const create = useMutation(
    trpc.feed.createToken.mutationOptions({
      onSuccess: (t) => {
        setMade(t);
        return refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.feed.revokeToken.mutationOptions({ onSuccess: refresh }),
  );

  return (
    <div className="space-y-6">
      {made ? (
        <section
          aria-labelledby="new-feed-title"
          className="rounded-lg border border-amber-300 bg-amber-50 p-4 dark:border-amber-700 dark:bg-amber-950/50"
        >
          <h2
            id="new-feed-title"
            className="font-semibold text-amber-950 dark:text-amber-100"
          >
            Your new feed addresses
          </h2>
          <p className="mt-1 text-sm text-amber-900 dark:text-amber-200">
            Copy them now: the token in them is shown only this once and stored
            only as a hash. Anyone with an address can read the feed until you
            revoke the token.
          </p>
          <ul className="mt-3 space-y-3">
            {FEEDS.map((f) => {
              const url = feedUrl(baseUrl, f.path, made.token);
              return (
                <li key={f.path} className="min-w-0">
                  <p className="text-sm font-medium text-amber-950 dark:text-amber-100">
                    {f.label}{" "}
                    <span className="font-normal text-amber-900 dark:text-amber-200">
                      — for {f.use}
                    </span>
                  </p>
                  <div className="mt-1 flex flex-wrap items-center gap-2">
                    <code
                      data-testid="feed-url"
                      className="min-w-0 rounded bg-white px-2 py-1 font-mono text-xs break-all dark:bg-slate-950"
                    >
                      {url}
                    </code>
                    <CopyButton text={url} />
                  </div>
                </li>
              );
            })}
          </ul>
          <button
            type="button"
            className="mt-3 text-sm underline"
            onClick={() => setMade(null)}
          >
            Done
          </button>
        </section>
      ) : null}
      <Card title="Feed tokens" id="feed-tokens">
        <div className="space-y-2 px-4 pt-3">
          <p className="text-sm text-slate-600 dark:text-slate-300">
            A feed token lets a feed reader or a calendar read this
            tenant&apos;s incidents (Atom) and evacuations (iCalendar), and
            nothing else.
          </p>
          {!canChange ? (
            <p className="text-sm text-slate-600 dark:text-slate-300">
              You are a viewer: members and owners make and revoke feed tokens.
            </p>
          ) : null}
          <ErrorNote error={revoke.error} />
        </div>
        {data.data.length ? (
          <Table
            caption="Feed tokens"
            columns={[
              "Id",
              "Created",
              "Last read",
              canChange && { label: "Actions", hidden: true },
            ]}
          >
            <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
              {data.data.map((t) => (
                <tr key={t.id}>
                  <td className={`${tdClass} font-mono text-xs break-all`}>
                    {t.id}
                  </td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    <LocalTime iso={t.createdAt} seconds={false} />
                  </td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    {t.lastUsedAt ? (
                      <LocalTime iso={t.lastUsedAt} seconds={false} />
                    ) : (
                      "never"
                    )}
                  </td>
                  {canChange ? (
                    <td className={`${tdClass} text-right`}>
                      <ConfirmButton
                        label="Revoke"
                        accessibleLabel={`Revoke ${t.id}`}
                        title={`Revoke ${t.id}?`}
                        className={dangerButton}
                        disabled={revoke.isPending}
                        onConfirm={() => revoke.mutate({ id: t.id })}
                      >
                        <p>
                          Feed readers and calendars using it stop updating at
                          once.
                        </p>
                      </ConfirmButton>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <EmptyState title="No feed tokens">
            {canChange ? "Make one to subscribe a reader or a calendar." : null}
          </EmptyState>
        )}
        {canChange ? (
          <div className="flex flex-wrap items-center gap-3 p-4">
            <button
              type="button"
              className={primaryButton}
              disabled={create.isPending}
              onClick={() => create.mutate()}
            >
              {create.isPending ? "Making…" : "Make a feed token"}
            </button>
            <ErrorNote error={create.error} />
          </div>
        ) : null}
      </Card>
    </div>
  );
}
