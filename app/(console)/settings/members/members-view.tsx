"use client";
import {
  useMutation,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { ConfirmButton } from "@/app/_components/dialog";
import { useId, useState } from "react";
import { ROLES } from "@/db/constants";
import type { Role } from "@/db/constants";
import { useTRPC } from "@/app/_trpc/client";
import { StatusBadge } from "@/app/_components/badges";
import { LocalTime } from "@/app/_components/time";
import {
  Card,
  dangerButton,
  ErrorNote,
  inputClass,
  primaryButton,
  Table,
  tdClass,
} from "@/app/_components/ui";
import { OwnerOnlyNote } from "../_components/owner-note";

export function MembersView({ role, self }: { role: Role; self: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const { data: members } = useSuspenseQuery(
    trpc.settings.listMembers.queryOptions(),
  );
  const isOwner = role === "owner";
  const refresh = () =>
    qc.invalidateQueries({ queryKey: trpc.settings.listMembers.queryKey() });
  const [notice, setNotice] = useState<string | null>(null);
  const invite = useMutation(
    trpc.settings.inviteMember.mutationOptions({
      onSuccess: (m) => {
        setNotice(
          `Invited ${m.email} as ${m.role}. They get a sign-in email (see the Outbox without an email service).`,
        );
        return refresh();
      },
    }),
  );
  const change = useMutation(
    trpc.settings.changeMemberRole.mutationOptions({ onSuccess: refresh }),
  );
  const remove = useMutation(
    trpc.settings.removeMember.mutationOptions({ onSuccess: refresh }),
  );
  const [email, setEmail] = useState("");
  const [newRole, setNewRole] = useState<Role>("viewer");
  const ids = { email: useId(), role: useId() };

  return (
    <div className="space-y-6">
      <Card title="Members" id="members">
        <div className="space-y-2 px-4 pt-3">
          {!isOwner ? (
            <OwnerOnlyNote
              what="invite members, change roles or remove members"
              role={role}
            />
          ) : null}
          <ErrorNote error={change.error ?? remove.error} />
        </div>
        <Table
          caption="Members of this tenant"
          columns={[
            "Email",
            "Role",
            "Added",
            "Signed in",
            isOwner && { label: "Actions", hidden: true },
          ]}
        >
          <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
            {members.map((m) => (
              <tr key={m.id}>
                <td className={`${tdClass} whitespace-nowrap`}>
                  {m.email}
                  {m.email === self ? (
                    <span className="ml-2 text-xs text-slate-500 dark:text-slate-400">
                      (you)
                    </span>
                  ) : null}
                </td>
                <td className={tdClass}>
                  {isOwner ? (
                    <>
                      <label className="sr-only" htmlFor={`role-${m.id}`}>
                        Role of {m.email}
                      </label>
                      <select
                        id={`role-${m.id}`}
                        value={m.role}
                        disabled={change.isPending}
                        onChange={(e) =>
                          change.mutate({
                            memberId: m.id,
                            role: e.target.value as Role,
                          })
                        }
                        className="rounded-md border border-slate-300 bg-white py-1 pr-7 pl-2 text-sm dark:border-slate-700 dark:bg-slate-900"
                      >
                        {ROLES.map((r) => (
                          <option key={r} value={r}>
                            {r}
                          </option>
                        ))}
                      </select>
                    </>
                  ) : (
                    <StatusBadge status={m.role} />
                  )}
                </td>
                <td className={`${tdClass} whitespace-nowrap`}>
                  <LocalTime iso={m.createdAt} seconds={false} />
                </td>
                <td className={tdClass}>{m.hasSignedIn ? "yes" : "not yet"}</td>
                {isOwner ? (
                  <td className={`${tdClass} text-right`}>
                    <ConfirmButton
                      label="Remove"
                      accessibleLabel={`Remove ${m.email}`}
                      title={`Remove ${m.email} from this tenant?`}
                      className={dangerButton}
                      disabled={remove.isPending}
                      onConfirm={() => remove.mutate({ memberId: m.id })}
                    >
                      <p>
                        They lose access to the console of this tenant at once.
                      </p>
                    </ConfirmButton>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </Table>
      </Card>

      {isOwner ? (
        <Card title="Invite someone" id="invite">
          <form
            className="flex flex-wrap items-end gap-3 p-4"
            onSubmit={(e) => {
              e.preventDefault();
              setNotice(null);
              invite.mutate(
                { email, role: newRole },
                { onSuccess: () => setEmail("") },
              );
            }}
          >
            <div className="min-w-64 flex-1">
              <label
                htmlFor={ids.email}
                className="mb-1 block text-sm font-medium"
              >
                Email
              </label>
              <input
                id={ids.email}
                type="email"
                required
                autoComplete="off"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                className={inputClass}
                placeholder="name@example.com"
              />
            </div>
            <div>
              <label
                htmlFor={ids.role}
                className="mb-1 block text-sm font-medium"
              >
                Role
              </label>
              <select
                id={ids.role}
                value={newRole}
                onChange={(e) => setNewRole(e.target.value as Role)}
                className={inputClass}
              >
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
            </div>
            <button
              type="submit"
              className={primaryButton}
              disabled={invite.isPending}
            >
              {invite.isPending ? "Inviting…" : "Invite"}
            </button>
          </form>
          <div className="space-y-2 px-4 pb-4" aria-live="polite">
            <ErrorNote error={invite.error} />
            {notice ? (
              <p className="text-sm text-emerald-800 dark:text-emerald-300">
                {notice}
              </p>
            ) : null}
            <p className="text-xs text-slate-600 dark:text-slate-400">
              Viewers read everything of the tenant; members also manage
              webhooks and notification settings; owners also manage members and
              API keys.
            </p>
          </div>
        </Card>
      ) : null}
    </div>
  );
}
