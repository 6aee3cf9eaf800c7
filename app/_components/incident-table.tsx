import Link from "next/link";
import { incidentName, whatHappened } from "@/emails/_components/incident-name";
import { SeverityBadge, StatusBadge } from "./badges";
import { LocalTime } from "./time";
import type { IncidentListItem } from "./types";
import { linkClass, Table, tdClass } from "./ui";

// Incidents by their human name (VM — what happened); the id is on the incident's own page. On a
// phone the rows become stacked cards: status, VM, what happened and when.
export function IncidentTable({
  incidents,
  caption = "Incidents",
}: {
  incidents: IncidentListItem[];
  caption?: string;
}) {
  return (
    <>
      <ul
        aria-label={caption}
        className="divide-y divide-slate-200 sm:hidden dark:divide-slate-800"
      >
        {incidents.map((i) => (
          <li key={i.id} className="px-4 py-3">
            <div className="flex flex-wrap items-center gap-1.5">
              <SeverityBadge severity={i.severity} />
              <StatusBadge status={i.status} />
            </div>
            <Link
              href={`/incidents/${i.id}`}
              className={`${linkClass} mt-1 block font-medium break-words`}
            >
              <span className="font-semibold">{i.vmName}</span> —{" "}
              {whatHappened(i)}
            </Link>
            <p className="mt-0.5 text-xs text-slate-600 dark:text-slate-400">
              <LocalTime iso={i.openedAt} seconds={false} /> · {i.errorCount}{" "}
              {i.errorCount === 1 ? "error" : "errors"} on {i.distinctPages}{" "}
              {i.distinctPages === 1 ? "page" : "pages"} · {i.projectId}
            </p>
          </li>
        ))}
      </ul>
      <div className="hidden sm:block">
        <Table
          caption={caption}
          columns={[
            "Incident",
            "Status",
            "VM",
            "Opened",
            { label: "Errors", numeric: true },
            { label: "Pages", numeric: true },
          ]}
        >
          <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
            {incidents.map((i) => (
              <tr
                key={i.id}
                className="hover:bg-slate-50 dark:hover:bg-slate-800/50"
              >
                <td className={`${tdClass} min-w-64`}>
                  <div className="flex items-baseline gap-2">
                    <SeverityBadge severity={i.severity} />
                    <Link
                      href={`/incidents/${i.id}`}
                      className={`${linkClass} font-medium`}
                      title={incidentName(i)}
                    >
                      {incidentName(i)}
                    </Link>
                  </div>
                </td>
                <td className={tdClass}>
                  <StatusBadge status={i.status} />
                </td>
                <td className={tdClass}>
                  <Link
                    href={`/vms/${encodeURIComponent(i.vmId)}`}
                    className={linkClass}
                  >
                    {i.vmName}
                  </Link>
                  <div className="text-xs whitespace-nowrap text-slate-600 dark:text-slate-400">
                    {i.projectId}
                  </div>
                </td>
                <td className={`${tdClass} whitespace-nowrap`}>
                  <LocalTime iso={i.openedAt} seconds={false} />
                </td>
                <td className={`${tdClass} text-right tabular-nums`}>
                  {i.errorCount}
                </td>
                <td className={`${tdClass} text-right tabular-nums`}>
                  {i.distinctPages}
                </td>
              </tr>
            ))}
          </tbody>
        </Table>
      </div>
    </>
  );
}
