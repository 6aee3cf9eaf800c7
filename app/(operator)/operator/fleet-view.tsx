"use client";
import { useSuspenseQuery } from "@tanstack/react-query";
import { useTRPC } from "@/app/_trpc/client";
import { windowLabel } from "@/app/_components/charts";
import { LocalTime } from "@/app/_components/time";
import {
  Card,
  EmptyState,
  Table,
  tdClass,
  TextLink,
} from "@/app/_components/ui";
import { HostStateBadge, PressureMeter } from "./_components/host-state";

function Stat({
  label,
  value,
  hint,
  href,
  tone,
}: {
  label: string;
  value: number | string;
  hint?: string;
  href?: string;
  tone?: "red" | "amber";
}) {
  const color =
    tone === "red"
      ? "text-red-700 dark:text-red-300"
      : tone === "amber"
        ? "text-amber-700 dark:text-amber-300"
        : "";
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
      <p className="text-sm font-medium text-slate-600 dark:text-slate-300">
        {label}
      </p>
      <p className={`mt-1 text-3xl font-semibold tabular-nums ${color}`}>
        {value}
      </p>
      {hint ? (
        <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">
          {href ? <TextLink href={href}>{hint}</TextLink> : hint}
        </p>
      ) : null}
    </div>
  );
}

function duration(s: number) {
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

// Events per hour over the last day.
function IngestBars({
  perHour,
}: {
  perHour: { hour: string; events: number }[];
}) {
  const max = Math.max(1, ...perHour.map((h) => h.events));
  return (
    <figure className="p-4">
      <div
        className="flex h-28 items-end gap-0.5"
        role="img"
        aria-label={`Events received per hour over the last day; peak ${max}`}
      >
        {perHour.map((h) => (
          <div
            key={h.hour}
            title={`${h.hour.slice(0, 13)}:00 UTC: ${h.events} events`}
            className="flex-1 rounded-t bg-sky-600 dark:bg-sky-500"
            style={{
              height: `${(h.events / max) * 100}%`,
              minHeight: h.events ? 2 : 0,
            }}
          />
        ))}
      </div>
      <figcaption className="mt-2 text-xs text-slate-600 dark:text-slate-300">
        Events received per hour, last 24 hours (UTC); peak {max}.
      </figcaption>
    </figure>
  );
}

export function FleetView() {
  const trpc = useTRPC();
  const { data } = useSuspenseQuery({
    ...trpc.operator.overview.queryOptions(),
    refetchInterval: 30_000,
  });
  const p = data.policy;
  const total =
    data.hostsByState.healthy +
    data.hostsByState.degraded +
    data.hostsByState.evacuate;
  return (
    <div className="space-y-6">
      <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
        <Stat
          label="Hosts"
          value={total}
          hint={`${data.hostsByState.healthy} healthy`}
          href="/operator/hosts"
        />
        <Stat
          label="Degraded hosts"
          value={data.hostsByState.degraded}
          hint={`≥ ${p.hostDegradedPages} pages in ${windowLabel(p.windowSeconds)}`}
          href="/operator/hosts?state=degraded"
          tone={data.hostsByState.degraded ? "amber" : undefined}
        />
        <Stat
          label="Hosts to evacuate"
          value={data.hostsByState.evacuate}
          hint={`≥ ${p.hostEvacuatePages} pages`}
          href="/operator/hosts?state=evacuate"
          tone={data.hostsByState.evacuate ? "red" : undefined}
        />
        <Stat
          label="Active evacuations"
          value={data.evacuations.scheduled + data.evacuations.in_progress}
          hint={`${data.evacuations.scheduled} scheduled, ${data.evacuations.in_progress} in progress`}
          href="/operator/evacuations"
        />
      </div>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Hosts trending toward their threshold" id="trending">
          {data.trendingHosts.length ? (
            <Table
              caption="Hosts with the most distinct poisoned pages that are not yet in evacuate"
              columns={["Host", "State", "Pages", "Last error"]}
            >
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {data.trendingHosts.map((h) => (
                  <tr key={h.id}>
                    <td className={tdClass}>
                      <TextLink
                        href={`/operator/hosts/${encodeURIComponent(h.id)}`}
                      >
                        {h.id}
                      </TextLink>
                    </td>
                    <td className={tdClass}>
                      <HostStateBadge state={h.state} />
                    </td>
                    <td className={tdClass}>
                      <PressureMeter
                        pages={h.distinctPages}
                        degraded={p.hostDegradedPages}
                        evacuate={p.hostEvacuatePages}
                      />
                    </td>
                    <td className={tdClass}>
                      <LocalTime iso={h.lastErrorAt} seconds={false} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
          ) : (
            <EmptyState title="No host has errors in the window" />
          )}
          {data.hostsToEvacuate.length ? (
            <p className="border-t border-slate-200 px-4 py-3 text-sm dark:border-slate-800">
              In evacuate:{" "}
              {data.hostsToEvacuate.map((h, i) => (
                <span key={h.id}>
                  {i ? ", " : ""}
                  <TextLink
                    href={`/operator/hosts/${encodeURIComponent(h.id)}`}
                  >
                    {h.id}
                  </TextLink>{" "}
                  ({h.distinctPages})
                </span>
              ))}
            </p>
          ) : null}
        </Card>

        <Card title="Ingestion" id="ingestion">
          <IngestBars perHour={data.ingestion.perHour} />
          <p className="px-4 pb-4 text-sm text-slate-700 dark:text-slate-200">
            <span className="tabular-nums">
              {data.ingestion.perMinuteNow.toFixed(1)}
            </span>{" "}
            events per minute over the last 5 minutes.
          </p>
        </Card>

        <Card title="Uncorrelated events, last 24 hours" id="uncorrelated">
          <dl className="grid grid-cols-2 gap-4 p-4">
            <div>
              <dt className="text-sm text-slate-600 dark:text-slate-300">
                Unknown VM
              </dt>
              <dd className="text-2xl font-semibold tabular-nums">
                {data.uncorrelated.unknown_vm}
              </dd>
              <dd className="text-xs text-slate-500 dark:text-slate-400">
                The inventory does not know the VM yet; bound when it does.
              </dd>
            </div>
            <div>
              <dt className="text-sm text-slate-600 dark:text-slate-300">
                Host mismatch
              </dt>
              <dd
                className={`text-2xl font-semibold tabular-nums ${data.uncorrelated.host_mismatch ? "text-amber-700 dark:text-amber-300" : ""}`}
              >
                {data.uncorrelated.host_mismatch}
              </dd>
              <dd className="text-xs text-slate-500 dark:text-slate-400">
                Reported by a host the VM was not on: check the inventory or the
                host.
              </dd>
            </div>
          </dl>
        </Card>

        <Card title="Delivery backlog" id="backlog">
          <dl className="grid grid-cols-3 gap-4 p-4">
            <div>
              <dt className="text-sm text-slate-600 dark:text-slate-300">
                Tenant webhooks
              </dt>
              <dd className="text-2xl font-semibold tabular-nums">
                {data.backlog.webhookPending}
              </dd>
              <dd className="text-xs text-slate-500 dark:text-slate-400">
                oldest {duration(data.backlog.oldestWebhookAgeSeconds)}
              </dd>
            </div>
            <div>
              <dt className="text-sm text-slate-600 dark:text-slate-300">
                Control-plane callbacks
              </dt>
              <dd
                className={`text-2xl font-semibold tabular-nums ${data.backlog.callbackPending ? "text-amber-700 dark:text-amber-300" : ""}`}
              >
                {data.backlog.callbackPending}
              </dd>
            </div>
            <div>
              <dt className="text-sm text-slate-600 dark:text-slate-300">
                Emails queued
              </dt>
              <dd className="text-2xl font-semibold tabular-nums">
                {data.backlog.emailsQueued}
              </dd>
              <dd className="text-xs text-slate-500 dark:text-slate-400">
                oldest {duration(data.backlog.oldestEmailAgeSeconds)}
              </dd>
            </div>
          </dl>
          <p className="px-4 pb-4 text-sm text-slate-600 dark:text-slate-300">
            {data.incidents.open} open and {data.incidents.evacuating}{" "}
            evacuating incidents across tenants.
          </p>
        </Card>
      </div>
    </div>
  );
}
