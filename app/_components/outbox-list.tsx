"use client";
import { useSuspenseInfiniteQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_trpc/client";
import { StatusBadge } from "@/app/_components/badges";
import { LocalTime } from "@/app/_components/time";
import { byNextCursor } from "@/app/_components/types";
import {
  EmptyState,
  linkClass,
  LoadMore,
  Table,
  tdClass,
} from "@/app/_components/ui";
import { OUTBOX_INPUT } from "./outbox-input";

// A tenant's outbox, or (operator) every email of the installation with its tenant.
export function OutboxList({
  scope = "tenant",
}: {
  scope?: "tenant" | "operator";
}) {
  const trpc = useTRPC();
  const q = useSuspenseInfiniteQuery(
    scope === "operator"
      ? trpc.operator.outbox.infiniteQueryOptions(OUTBOX_INPUT, byNextCursor)
      : trpc.outbox.list.infiniteQueryOptions(OUTBOX_INPUT, byNextCursor),
  );
  const mails = q.data.pages.flatMap((p) => p.data);
  const base = scope === "operator" ? "/operator/outbox" : "/settings/outbox";
  if (!mails.length)
    return (
      <EmptyState title="No email yet">
        Incident notifications, invites and sign-in links appear here.
      </EmptyState>
    );
  return (
    <>
      <Table
        caption="Emails, newest first"
        columns={
          scope === "operator"
            ? ["Subject", "To", "Tenant", "Status", "Created"]
            : ["Subject", "To", "Status", "Created"]
        }
      >
        <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
          {mails.map((m) => (
            <tr
              key={m.id}
              className="hover:bg-slate-50 dark:hover:bg-slate-800/50"
            >
              <td className={tdClass}>
                <Link href={`${base}/${m.id}`} className={linkClass}>
                  {m.subject}
                </Link>
                <div className="text-xs text-slate-600 dark:text-slate-400">
                  {m.kind.replace(/_/g, " ")}
                </div>
              </td>
              <td className={`${tdClass} whitespace-nowrap`}>
                {m.to.join(", ")}
              </td>
              {scope === "operator" ? (
                <td className={tdClass}>{m.tenantId ?? "—"}</td>
              ) : null}
              <td className={tdClass}>
                <StatusBadge
                  status={m.status}
                  label={m.status === "outbox" ? "in outbox" : m.status}
                />
                {m.lastError ? (
                  <div className="mt-1 text-xs text-red-700 dark:text-red-300">
                    {m.lastError}
                  </div>
                ) : null}
              </td>
              <td className={`${tdClass} whitespace-nowrap`}>
                <LocalTime iso={m.createdAt} seconds={false} />
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <LoadMore q={q} />
    </>
  );
}
