"use client";
import { useSuspenseInfiniteQuery } from "@tanstack/react-query";
import { useTRPC } from "@/app/_trpc/client";
import { LocalTime } from "@/app/_components/time";
import { byNextCursor } from "@/app/_components/types";
import { EmptyState, LoadMore, Table, tdClass } from "@/app/_components/ui";
import { AUDIT_INPUT } from "./input";

export function AuditView() {
  const trpc = useTRPC();
  const q = useSuspenseInfiniteQuery(
    trpc.settings.listAudit.infiniteQueryOptions(AUDIT_INPUT, byNextCursor),
  );
  const rows = q.data.pages.flatMap((p) => p.data);
  if (!rows.length) return <EmptyState title="Nothing changed yet" />;
  return (
    <>
      <Table
        caption="Audit log, newest first"
        columns={["When", "Who", "Action", "Target", "Details"]}
      >
        <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
          {rows.map((r) => (
            <tr key={r.id}>
              <td className={`${tdClass} whitespace-nowrap`}>
                <LocalTime iso={r.at} />
              </td>
              <td className={`${tdClass} break-all`}>{r.actor}</td>
              <td className={`${tdClass} font-mono text-xs`}>{r.action}</td>
              <td className={`${tdClass} font-mono text-xs break-all`}>
                {r.target ?? "—"}
              </td>
              <td className={tdClass}>
                {r.details ? (
                  <details>
                    <summary className="cursor-pointer text-sm text-slate-600 dark:text-slate-300">
                      Show
                    </summary>
                    <pre
                      tabIndex={0}
                      className="mt-1 max-w-md overflow-auto rounded bg-slate-50 p-2 font-mono text-xs dark:bg-slate-950"
                    >
                      {JSON.stringify(r.details, null, 2)}
                    </pre>
                  </details>
                ) : (
                  "—"
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </Table>
      <LoadMore q={q} />
    </>
  );
}
