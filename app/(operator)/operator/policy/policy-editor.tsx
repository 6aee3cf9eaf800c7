"use client";
import {
  useMutation,
  useQuery,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { useId, useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import {
  Card,
  EmptyState,
  ErrorNote,
  inputClass,
  primaryButton,
  secondaryButton,
  Table,
  tdClass,
  TextLink,
} from "@/app/_components/ui";
import { HostStateBadge, REASON_LABEL } from "../_components/host-state";

type Policy = {
  windowSeconds: number;
  vmPages: number;
  evacuateOnGuestKernel: boolean;
  hostDegradedPages: number;
  hostEvacuatePages: number;
  quietPeriodSeconds: number;
  coalesceSeconds: number;
  maxDeferSeconds: number;
};

const FIELDS: {
  key: Exclude<keyof Policy, "evacuateOnGuestKernel">;
  label: string;
  hint: string;
  unit?: "hours" | "seconds";
}[] = [
  {
    key: "windowSeconds",
    label: "Window",
    hint: "Distinct pages are counted over this period.",
    unit: "hours",
  },
  {
    key: "vmPages",
    label: "VM pages",
    hint: "A VM is evacuated at this many distinct poisoned pages within the window.",
  },
  {
    key: "hostDegradedPages",
    label: "Host degraded at",
    hint: "Distinct (VM, page) pairs across a host's VMs.",
  },
  {
    key: "hostEvacuatePages",
    label: "Host evacuate at",
    hint: "Every running VM of the host is evacuated.",
  },
  {
    key: "quietPeriodSeconds",
    label: "Quiet period",
    hint: "An incident resolves after this long without a new error.",
    unit: "hours",
  },
  {
    key: "coalesceSeconds",
    label: "Coalesce notifications",
    hint: "Notifications of one incident go out at most this often.",
    unit: "seconds",
  },
  {
    key: "maxDeferSeconds",
    label: "Longest deferral",
    hint: "Tenants may put an evacuation off until this long after it was requested (its deadline).",
    unit: "hours",
  },
];

function shown(p: Policy, k: (typeof FIELDS)[number]): string {
  return k.unit === "hours" ? String(p[k.key] / 3600) : String(p[k.key]);
}

export function PolicyEditor() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const current = useSuspenseQuery(trpc.operator.policy.queryOptions()).data;
  const [draft, setDraft] = useState<Record<string, string>>(() =>
    Object.fromEntries(FIELDS.map((f) => [f.key, shown(current, f)])),
  );
  const [guestKernel, setGuestKernel] = useState(current.evacuateOnGuestKernel);
  const [previewOf, setPreviewOf] = useState<Policy | null>(null);
  const id = useId();

  const candidate: Policy = { ...current, evacuateOnGuestKernel: guestKernel };
  let invalid: string | null = null;
  for (const f of FIELDS) {
    const n = Number(draft[f.key]);
    if (!Number.isFinite(n) || n < 0) invalid = `${f.label} must be a number`;
    else candidate[f.key] = Math.round(f.unit === "hours" ? n * 3600 : n);
  }
  const changed = JSON.stringify(candidate) !== JSON.stringify(current);

  const preview = useQuery({
    ...trpc.operator.previewPolicy.queryOptions(previewOf ?? current),
    enabled: previewOf !== null,
  });
  const save = useMutation(
    trpc.operator.updatePolicy.mutationOptions({
      onSuccess: async () => {
        setPreviewOf(null);
        await queryClient.invalidateQueries({
          queryKey: trpc.operator.pathKey(),
        });
      },
    }),
  );

  return (
    <div className="space-y-6">
      <Card title="Parameters" id="parameters">
        <form
          className="space-y-4 p-4"
          onSubmit={(e) => {
            e.preventDefault();
            if (!invalid) save.mutate(candidate);
          }}
        >
          <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {FIELDS.map((f) => (
              <div key={f.key}>
                <label
                  htmlFor={`${id}-${f.key}`}
                  className="block text-sm font-medium"
                >
                  {f.label}
                  {f.unit ? (
                    <span className="font-normal text-slate-500">
                      {" "}
                      ({f.unit})
                    </span>
                  ) : null}
                </label>
                <input
                  id={`${id}-${f.key}`}
                  inputMode="decimal"
                  className={`${inputClass} mt-1`}
                  value={draft[f.key]}
                  aria-describedby={`${id}-${f.key}-hint`}
                  onChange={(e) =>
                    setDraft({ ...draft, [f.key]: e.target.value })
                  }
                />
                <p
                  id={`${id}-${f.key}-hint`}
                  className="mt-1 text-xs text-slate-500 dark:text-slate-400"
                >
                  {f.hint} Now: {shown(current, f)}.
                </p>
              </div>
            ))}
          </div>
          <label className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              checked={guestKernel}
              onChange={(e) => setGuestKernel(e.target.checked)}
            />
            Evacuate a VM on any guest-kernel consumption
          </label>
          {invalid ? <ErrorNote error={{ message: invalid }} /> : null}
          <ErrorNote error={preview.error ?? save.error} />
          <div className="flex flex-wrap gap-2">
            <button
              type="button"
              className={secondaryButton}
              disabled={!!invalid}
              onClick={() => setPreviewOf(candidate)}
            >
              Preview
            </button>
            <button
              type="submit"
              className={primaryButton}
              disabled={!!invalid || !changed || save.isPending}
            >
              {save.isPending ? "Saving…" : "Save policy"}
            </button>
            {save.isSuccess && !changed ? (
              <span
                role="status"
                className="self-center text-sm text-emerald-700 dark:text-emerald-300"
              >
                Saved.
              </span>
            ) : null}
          </div>
        </form>
      </Card>

      {previewOf ? (
        <Card title="What this policy would do now" id="preview">
          {preview.isLoading || !preview.data ? (
            <EmptyState
              title={preview.isError ? "Preview failed" : "Computing…"}
            />
          ) : (
            <div className="space-y-4 p-4">
              <div className="grid gap-4 sm:grid-cols-3">
                {(["healthy", "degraded", "evacuate"] as const).map((s) => (
                  <div
                    key={s}
                    className="rounded-md border border-slate-200 p-3 dark:border-slate-800"
                  >
                    <HostStateBadge state={s} />
                    <p className="mt-1 text-2xl font-semibold tabular-nums">
                      {preview.data.hosts.candidate[s]}
                      <span className="ml-2 text-sm font-normal text-slate-500">
                        now {preview.data.hosts.current[s]}
                      </span>
                    </p>
                  </div>
                ))}
              </div>
              <p className="text-sm">
                <strong className="tabular-nums">
                  {preview.data.wouldEvacuate.total}
                </strong>{" "}
                running VMs would be evacuated
                {preview.data.noLongerEvacuated
                  ? `; ${preview.data.noLongerEvacuated} that the current policy would evacuate would not be`
                  : ""}
                .
              </p>
              {preview.data.wouldEvacuate.items.length ? (
                <Table
                  caption="VMs this policy would evacuate"
                  columns={[
                    "VM",
                    "Host",
                    "Tenant",
                    "Reason",
                    "Also under the current policy",
                  ]}
                >
                  <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                    {preview.data.wouldEvacuate.items.map((v) => (
                      <tr key={v.vmId}>
                        <td className={`${tdClass} font-mono text-xs`}>
                          {v.vmId}
                        </td>
                        <td className={tdClass}>
                          {v.hostId ? (
                            <TextLink
                              href={`/operator/hosts/${encodeURIComponent(v.hostId)}`}
                            >
                              {v.hostId}
                            </TextLink>
                          ) : (
                            "—"
                          )}
                        </td>
                        <td className={tdClass}>{v.tenantId}</td>
                        <td className={tdClass}>
                          {REASON_LABEL[v.reason] ?? v.reason} (
                          {v.distinctPages})
                        </td>
                        <td className={tdClass}>
                          {v.alsoUnderCurrent ? "yes" : "no"}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </Table>
              ) : null}
              {preview.data.hostChanges.items.length ? (
                <p className="text-sm">
                  Hosts changing state:{" "}
                  {preview.data.hostChanges.items.slice(0, 30).map((h, i) => (
                    <span key={h.hostId}>
                      {i ? ", " : ""}
                      {h.hostId} {h.from} → {h.to}
                    </span>
                  ))}
                  {preview.data.hostChanges.total > 30
                    ? ` and ${preview.data.hostChanges.total - 30} more`
                    : ""}
                  .
                </p>
              ) : null}
            </div>
          )}
        </Card>
      ) : null}
    </div>
  );
}
