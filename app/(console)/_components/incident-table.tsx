import Link from "next/link";
import { SeverityBadge, StatusBadge } from "./badges";
import { LocalTime } from "./time";
import type { IncidentListItem } from "./types";
import { linkClass, Table, tdClass } from "./ui";

export function IncidentTable({ incidents, caption = "Incidents" }: { incidents: IncidentListItem[]; caption?: string }) {
  return (
    <Table caption={caption} columns={["Incident", "Status", "VM", "Opened", { label: "Errors", numeric: true }, { label: "Pages", numeric: true }, "Playbook"]}>
      <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
        {incidents.map((i) => (
          <tr key={i.id} className="hover:bg-slate-50 dark:hover:bg-slate-800/50">
            <td className={tdClass}>
              <div className="flex items-center gap-2">
                <SeverityBadge severity={i.severity} />
                <Link href={`/incidents/${i.id}`} className={`${linkClass} font-mono text-xs`}>
                  {i.id}
                </Link>
              </div>
            </td>
            <td className={tdClass}>
              <StatusBadge status={i.status} />
              {i.evacuation ? (
                <div className="mt-1 text-xs text-slate-600 dark:text-slate-300">evacuation {i.evacuation.status.replace("_", " ")}</div>
              ) : null}
            </td>
            <td className={tdClass}>
              <Link href={`/vms/${encodeURIComponent(i.vmId)}`} className={linkClass}>
                {i.vmName}
              </Link>
              <div className="whitespace-nowrap text-xs text-slate-600 dark:text-slate-400">{i.projectId}</div>
            </td>
            <td className={`${tdClass} whitespace-nowrap`}>
              <LocalTime iso={i.openedAt} seconds={false} />
            </td>
            <td className={`${tdClass} text-right tabular-nums`}>{i.errorCount}</td>
            <td className={`${tdClass} text-right tabular-nums`}>{i.distinctPages}</td>
            <td className={`${tdClass} min-w-48`}>{i.playbook.title}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
