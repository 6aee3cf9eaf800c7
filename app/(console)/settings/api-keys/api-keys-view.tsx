"use client";
import {
  useMutation,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { ConfirmButton } from "@/app/_components/dialog";
import { useId, useState } from "react";
import type { Role } from "@/db/constants";
import { useTRPC } from "@/app/_trpc/client";
import { CopyButton } from "@/app/_components/copy-button";
import { LocalTime } from "@/app/_components/time";
import {
  Card,
  dangerButton,
  EmptyState,
  ErrorNote,
  inputClass,
  primaryButton,
  Table,
  tdClass,
} from "@/app/_components/ui";
import { OwnerOnlyNote } from "../_components/owner-note";

export function ApiKeysView({ role }: { role: Role }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { data } = useSuspenseQuery(trpc.settings.listApiKeys.queryOptions());
  const isOwner = role === "owner";
  const refresh = () =>
    qc.invalidateQueries({ queryKey: trpc.settings.listApiKeys.queryKey() });
  const [made, setMade] = useState<{ id: string; key: string } | null>(null);
  const create = useMutation(
    trpc.settings.createApiKey.mutationOptions({
      onSuccess: (k) => {
        setMade(k);
        return refresh();
      },
    }),
  );
  const revoke = useMutation(
    trpc.settings.revokeApiKey.mutationOptions({ onSuccess: refresh }),
  );
  const [name, setName] = useState("");
  const nameId = useId();

  return (
    <div className="space-y-6">
      {made ? (
        <section
          aria-labelledby="new-key-title"
          className="rounded-lg border border-amber-300 bg-amber-50 p-4 dark:border-amber-700 dark:bg-amber-950/50"
        >
          <h2
            id="new-key-title"
            className="font-semibold text-amber-950 dark:text-amber-100"
          >
            Your new API key
          </h2>
          <p className="mt-1 text-sm text-amber-900 dark:text-amber-200">
            Copy it now: it is shown only this once and stored only as a hash.
            Use it as <code className="font-mono">Authorization: Bearer …</code>{" "}
            on the REST API.
          </p>
          <div className="mt-3 flex flex-wrap items-center gap-2">
            <code
              data-testid="new-api-key"
              className="rounded bg-white px-2 py-1 font-mono text-sm break-all dark:bg-slate-950"
            >
              {made.key}
            </code>
            <CopyButton text={made.key} />
            <button
              type="button"
              className="text-sm underline"
              onClick={() => setMade(null)}
            >
              Done
            </button>
          </div>
        </section>
      ) : null}
      <Card title="API keys" id="api-keys">
        <div className="space-y-2 px-4 pt-3">
          <p className="text-sm text-slate-600 dark:text-slate-300">
            Keys act with member rights on the tenant REST API (/api/v1).
          </p>
          {!isOwner ? (
            <OwnerOnlyNote what="create or revoke API keys" role={role} />
          ) : null}
          <ErrorNote error={revoke.error} />
        </div>
        {data.data.length ? (
          <Table
            caption="API keys"
            columns={[
              "Name",
              "Id",
              "Created",
              "Last used",
              isOwner && { label: "Actions", hidden: true },
            ]}
          >
            <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
              {data.data.map((k) => (
                <tr key={k.id}>
                  <td className={tdClass}>
                    {k.name ?? (
                      <span className="text-slate-500 dark:text-slate-400">
                        unnamed
                      </span>
                    )}
                  </td>
                  <td className={`${tdClass} font-mono text-xs`}>{k.id}</td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    <LocalTime iso={k.createdAt} seconds={false} />
                  </td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    {k.lastUsedAt ? (
                      <LocalTime iso={k.lastUsedAt} seconds={false} />
                    ) : (
                      "never"
                    )}
                  </td>
                  {isOwner ? (
                    <td className={`${tdClass} text-right`}>
                      <ConfirmButton
                        label="Revoke"
                        accessibleLabel={`Revoke ${k.name ?? k.id}`}
                        title={`Revoke ${k.name ?? k.id}?`}
                        className={dangerButton}
                        disabled={revoke.isPending}
                        onConfirm={() => revoke.mutate({ keyId: k.id })}
                      >
                        <p>Automation using it stops working at once.</p>
                      </ConfirmButton>
                    </td>
                  ) : null}
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <EmptyState title="No API keys">
            {isOwner ? "Create one for your automation below." : null}
          </EmptyState>
        )}
      </Card>
      {isOwner ? (
        <Card title="Create an API key" id="create-key">
          <form
            className="flex flex-wrap items-end gap-3 p-4"
            onSubmit={(e) => {
              e.preventDefault();
              create.mutate(
                { name: name || undefined },
                { onSuccess: () => setName("") },
              );
            }}
          >
            <div className="min-w-64 flex-1">
              <label
                htmlFor={nameId}
                className="mb-1 block text-sm font-medium"
              >
                Name (optional)
              </label>
              <input
                id={nameId}
                value={name}
                maxLength={100}
                onChange={(e) => setName(e.target.value)}
                className={inputClass}
                placeholder="e.g. pager bridge"
              />
            </div>
            <button
              type="submit"
              className={primaryButton}
              disabled={create.isPending}
            >
              {create.isPending ? "Creating…" : "Create key"}
            </button>
          </form>
          <div className="px-4 pb-4">
            <ErrorNote error={create.error} />
          </div>
        </Card>
      ) : null}
    </div>
  );
}
