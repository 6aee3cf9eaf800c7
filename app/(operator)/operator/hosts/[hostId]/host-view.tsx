"use client";
import {
  useMutation,
  useQuery,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { ConfirmButton } from "@/app/_components/dialog";
import { useTRPC } from "@/app/_trpc/client";
import { StatusBadge } from "@/app/_components/badges";
import { windowLabel } from "@/app/_components/charts";
import { LocalTime } from "@/app/_components/time";
import {
  Breadcrumb,
  Card,
  EmptyState,
  ErrorNote,
  Facts,
  secondaryButton,
  Table,
  tdClass,
} from "@/app/_components/ui";
import {
  HostStateBadge,
  PressureMeter,
  REASON_LABEL,
} from "../../_components/host-state";

export function HostView({ hostId }: { hostId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { data } = useSuspenseQuery(
    trpc.operator.host.queryOptions({ hostId }),
  );
  const uncorrelated = useQuery(
    trpc.operator.uncorrelated.queryOptions({ hostId, limit: 20 }),
  );
  const evacuate = useMutation(
    trpc.operator.evacuate.mutationOptions({
      onSuccess: () =>
        queryClient.invalidateQueries({
          queryKey: trpc.operator.host.queryKey({ hostId }),
        }),
    }),
  );
  const p = data.policy;
  return (
    <div className="space-y-6">
      <div>
        <Breadcrumb
          href="/operator/hosts"
          label="Hosts"
          current={data.host.id}
        />
        <h1 className="flex items-center gap-3 text-2xl font-semibold tracking-tight">
          {data.host.id} <HostStateBadge state={data.health.state} />
        </h1>
      </div>
      <Card title="Health" id="health">
        <Facts
          items={[
            [
              "Distinct pages",
              <PressureMeter
                key="m"
                pages={data.health.distinctPages}
                degraded={p.hostDegradedPages}
                evacuate={p.hostEvacuatePages}
              />,
            ],
            ["Window", windowLabel(data.health.windowSeconds)],
            [
              "Thresholds",
              `degraded at ${p.hostDegradedPages}, evacuate at ${p.hostEvacuatePages}`,
            ],
            ["Zone", data.host.zone],
            ["VMs with errors", String(data.health.affectedVmIds.length)],
            [
              "Known since",
              <LocalTime key="t" iso={data.host.createdAt} seconds={false} />,
            ],
          ]}
        />
      </Card>
      <Card title="VMs on this host" id="vms">
        <ErrorNote error={evacuate.error} />
        {data.vms.length ? (
          <Table
            caption="VMs running on this host"
            columns={[
              "VM",
              "Tenant / project",
              "Own pages",
              "Evacuation",
              { label: "Actions", hidden: true },
            ]}
          >
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {data.vms.map((v) => {
                const active =
                  v.evacuation &&
                  (v.evacuation.status === "scheduled" ||
                    v.evacuation.status === "in_progress");
                return (
                  <tr key={v.id}>
                    <td className={tdClass}>
                      <span className="font-medium">{v.name}</span>{" "}
                      <span className="font-mono text-xs text-slate-500">
                        {v.id}
                      </span>
                    </td>
                    <td className={tdClass}>
                      {v.tenantId} / {v.projectId}
                    </td>
                    <td className={`${tdClass} tabular-nums`}>
                      {v.distinctPages} / {p.vmPages}
                      {v.guestKernel ? (
                        <span className="ml-2 text-xs text-red-700 dark:text-red-300">
                          guest kernel
                        </span>
                      ) : null}
                    </td>
                    <td className={tdClass}>
                      {v.evacuation ? (
                        <span className="text-sm">
                          <StatusBadge status={v.evacuation.status} />{" "}
                          {REASON_LABEL[v.evacuation.reason] ??
                            v.evacuation.reason}
                          ,{" "}
                          <LocalTime
                            iso={v.evacuation.scheduledFor}
                            seconds={false}
                          />
                        </span>
                      ) : (
                        <span className="text-slate-500">none</span>
                      )}
                    </td>
                    <td className={`${tdClass} text-right`}>
                      {!active ? (
                        <ConfirmButton
                          label="Evacuate"
                          title={`Restart ${v.name} on a healthy host?`}
                          className={secondaryButton}
                          disabled={evacuate.isPending}
                          onConfirm={() => evacuate.mutate({ vmId: v.id })}
                        >
                          <p>
                            Its tenant is told now; the restart is in 15 minutes
                            (or in the project&apos;s maintenance window, before
                            the deadline).
                          </p>
                        </ConfirmButton>
                      ) : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </Table>
        ) : (
          <EmptyState title="No VM runs on this host" />
        )}
      </Card>
      <Card title="Evacuations from this host" id="evacuations">
        {data.evacuations.length ? (
          <Table
            caption="Evacuations requested from this host, newest first"
            columns={["VM", "Status", "Reason", "Requested", "Scheduled for"]}
          >
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {data.evacuations.map((e) => (
                <tr key={e.id}>
                  <td className={`${tdClass} font-mono text-xs`}>{e.vmId}</td>
                  <td className={tdClass}>
                    <StatusBadge status={e.status} />
                  </td>
                  <td className={tdClass}>
                    {REASON_LABEL[e.reason] ?? e.reason} ({e.distinctPages})
                  </td>
                  <td className={tdClass}>
                    <LocalTime iso={e.requestedAt} seconds={false} />
                  </td>
                  <td className={tdClass}>
                    <LocalTime iso={e.scheduledFor} seconds={false} />
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <EmptyState title="No evacuation from this host" />
        )}
      </Card>
      <Card title="Uncorrelated events from this host" id="uncorrelated">
        {uncorrelated.data?.data.length ? (
          <Table
            caption="Uncorrelated events from this host, newest first"
            columns={["Received", "VM", "Reason"]}
          >
            <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
              {uncorrelated.data.data.map((e) => (
                <tr key={e.id}>
                  <td className={tdClass}>
                    <LocalTime iso={e.receivedAt} />
                  </td>
                  <td className={`${tdClass} font-mono text-xs`}>{e.vmId}</td>
                  <td className={tdClass}>
                    {e.reason === "unknown_vm" ? "unknown VM" : "host mismatch"}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <EmptyState title={uncorrelated.isLoading ? "Loading…" : "None"} />
        )}
      </Card>
    </div>
  );
}
