"use client";
import {
  useMutation,
  useQueryClient,
  useSuspenseInfiniteQuery,
} from "@tanstack/react-query";
import Link from "next/link";
import { useTRPC } from "@/app/_trpc/client";
import { StatusBadge } from "@/app/_components/badges";
import { LocalTime } from "@/app/_components/time";
import { byNextCursor } from "@/app/_components/types";
import { ConfirmButton } from "@/app/_components/dialog";
import {
  Card,
  dangerButton,
  EmptyState,
  ErrorNote,
  LoadMore,
  secondaryButton,
  Table,
  tdClass,
  TextLink,
} from "@/app/_components/ui";
import { REASON_LABEL } from "../_components/host-state";
import type { EvacuationStatus as Status } from "./inputs";
import { evacuationsInput } from "./inputs";

const TABS: { label: string; status: Status | null }[] = [
  { label: "All", status: null },
  { label: "Scheduled", status: "scheduled" },
  { label: "In progress", status: "in_progress" },
  { label: "Completed", status: "completed" },
  { label: "Cancelled", status: "cancelled" },
];

export function EvacuationsView({ status }: { status: Status | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const q = useSuspenseInfiniteQuery(
    trpc.operator.evacuations.infiniteQueryOptions(
      evacuationsInput(status),
      byNextCursor,
    ),
  );
  const cancel = useMutation(
    trpc.operator.cancelEvacuation.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({
          queryKey: trpc.operator.evacuations.pathKey(),
        }),
    }),
  );
  const start = useMutation(
    trpc.operator.startEvacuation.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({
          queryKey: trpc.operator.evacuations.pathKey(),
        }),
    }),
  );
  const list = q.data.pages.flatMap((p) => p.data);
  return (
    <Card>
      <nav
        aria-label="Filter by status"
        className="flex flex-wrap gap-2 border-b border-slate-200 p-3 dark:border-slate-800"
      >
        {TABS.map((t) => (
          <Link
            key={t.label}
            href={
              t.status
                ? `/operator/evacuations?status=${t.status}`
                : "/operator/evacuations"
            }
            aria-current={t.status === status ? "page" : undefined}
            className={`rounded-full px-3 py-1 text-sm font-medium ${
              t.status === status
                ? "bg-slate-900 text-white dark:bg-slate-100 dark:text-slate-900"
                : "bg-slate-100 text-slate-700 hover:bg-slate-200 dark:bg-slate-800 dark:text-slate-200"
            }`}
          >
            {t.label}
          </Link>
        ))}
      </nav>
      <div className="p-3">
        <ErrorNote error={cancel.error ?? start.error} />
      </div>
      {list.length ? (
        <Table
          caption="Evacuations, newest first"
          columns={[
            "VM",
            "From host",
            "Tenant",
            "Reason",
            "Status",
            "Scheduled for",
            "Deadline",
            "Ended",
            { label: "Actions", hidden: true },
          ]}
        >
          <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
            {list.map((e) => {
              const active =
                e.status === "scheduled" || e.status === "in_progress";
              return (
                <tr key={e.id}>
                  <td className={tdClass}>
                    <span className="font-mono text-xs">{e.vmId}</span>
                    <div className="font-mono text-[11px] text-slate-500">
                      {e.id}
                    </div>
                  </td>
                  <td className={tdClass}>
                    {e.hostId ? (
                      <TextLink
                        href={`/operator/hosts/${encodeURIComponent(e.hostId)}`}
                      >
                        {e.hostId}
                      </TextLink>
                    ) : (
                      "—"
                    )}
                  </td>
                  <td className={tdClass}>{e.tenantId}</td>
                  <td className={tdClass}>
                    {REASON_LABEL[e.reason] ?? e.reason}{" "}
                    <span className="text-slate-500 tabular-nums">
                      ({e.distinctPages})
                    </span>
                    <div className="text-xs text-slate-500">
                      by {e.requestedBy}
                    </div>
                  </td>
                  <td className={tdClass}>
                    <StatusBadge status={e.status} />
                  </td>
                  <td className={tdClass}>
                    <LocalTime iso={e.scheduledFor} seconds={false} />
                  </td>
                  <td className={tdClass}>
                    <LocalTime iso={e.deadline} seconds={false} />
                  </td>
                  <td className={tdClass}>
                    <LocalTime
                      iso={e.completedAt ?? e.cancelledAt}
                      seconds={false}
                    />
                  </td>
                  <td className={`${tdClass} text-right`}>
                    <div className="flex justify-end gap-2">
                      {e.status === "scheduled" ? (
                        <ConfirmButton
                          label="Start now"
                          title={`Start the evacuation of ${e.vmId} now?`}
                          className={secondaryButton}
                          disabled={start.isPending}
                          onConfirm={() => start.mutate({ evacuationId: e.id })}
                        >
                          <p>
                            Whatever time the tenant chose, the control plane is
                            told to restart the VM now, and the tenant hears of
                            it.
                          </p>
                        </ConfirmButton>
                      ) : null}
                      {active ? (
                        <ConfirmButton
                          label="Cancel"
                          title={`Cancel the evacuation of ${e.vmId}?`}
                          confirmLabel="Cancel the evacuation"
                          className={dangerButton}
                          disabled={cancel.isPending}
                          onConfirm={() =>
                            cancel.mutate({ evacuationId: e.id })
                          }
                        >
                          <p>
                            Its incident goes back to open and the tenant is
                            told.
                          </p>
                        </ConfirmButton>
                      ) : null}
                    </div>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </Table>
      ) : (
        <EmptyState title="No evacuations" />
      )}
      <LoadMore q={q} label="More" />
    </Card>
  );
}
