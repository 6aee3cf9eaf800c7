"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { Dialog } from "./dialog";
import { useNow } from "./live";
import { LocalTime } from "./time";
import {
  ErrorNote,
  inputClass,
  linkClass,
  primaryButton,
  secondaryButton,
} from "./ui";

// What the banner needs of an incident (its list shape).
export type BannerIncident = {
  id: string;
  vmId: string;
  vmName: string;
  evacuation: {
    id: string;
    status: string;
    scheduledFor: string;
    deadline: string;
    requestedAt: string;
  } | null;
};

export function isComing(i: BannerIncident): boolean {
  return (
    i.evacuation?.status === "scheduled" ||
    i.evacuation?.status === "in_progress"
  );
}

export function countdownText(ms: number): string {
  if (ms <= 0) return "any moment now";
  return `in ${durationText(ms)}`;
}

function durationText(ms: number): string {
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  return `${m} min ${String(sec).padStart(2, "0")} s`;
}

// datetime-local value (the browser's zone) of an instant
function localInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// One banner per restart that is coming or under way: above everything else on the overview and
// the incident page.
export function EvacuationBanner({
  incident,
  action,
  canAct,
  typicalRestartSeconds,
  onIncidentPage = false,
}: {
  incident: BannerIncident;
  action: string | null;
  canAct: boolean;
  typicalRestartSeconds: number;
  onIncidentPage?: boolean;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow(1000);
  const [dialog, setDialog] = useState<"start" | "defer" | null>(null);
  const evac = incident.evacuation!;
  const at = Date.parse(evac.scheduledFor);
  const deadline = Date.parse(evac.deadline);
  const [until, setUntil] = useState(() =>
    localInput(Math.min(deadline, at + 3600_000)),
  );
  const done = async () => {
    setDialog(null);
    await queryClient.invalidateQueries({ queryKey: trpc.incident.pathKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.vm.pathKey() });
  };
  const start = useMutation(
    trpc.incident.startEvacuation.mutationOptions({ onSuccess: done }),
  );
  const defer = useMutation(
    trpc.incident.deferEvacuation.mutationOptions({ onSuccess: done }),
  );
  const scheduled = evac.status === "scheduled";
  const untilMs = Date.parse(until);
  const untilProblem = !Number.isFinite(untilMs)
    ? "Choose a date and time"
    : untilMs <= at
      ? "Choose a time after the one scheduled now"
      : untilMs > deadline
        ? "The platform restarts it by the deadline at the latest"
        : null;
  const expectedEnd = new Date(at + typicalRestartSeconds * 1000).toISOString();
  const labelId = `banner-${evac.id}`;
  return (
    <section
      aria-labelledby={labelId}
      data-testid="evacuation-banner"
      className={`rounded-lg border-l-4 p-4 shadow-sm sm:p-5 ${
        scheduled
          ? "border-amber-500 bg-amber-50 text-amber-950 dark:bg-amber-950/40 dark:text-amber-50"
          : "border-violet-500 bg-violet-50 text-violet-950 dark:bg-violet-950/40 dark:text-violet-50"
      }`}
    >
      <h2
        id={labelId}
        className="text-lg leading-snug font-semibold sm:text-xl"
      >
        {scheduled ? (
          <>
            {incident.vmName} restarts on a healthy host{" "}
            <span
              className="tabular-nums"
              data-testid="countdown"
              suppressHydrationWarning
            >
              {countdownText(at - now)}
            </span>
          </>
        ) : (
          <>{incident.vmName} is restarting on a healthy host now</>
        )}
      </h2>
      <p className="mt-1 text-sm">
        {scheduled ? (
          <>
            Scheduled <LocalTime iso={evac.scheduledFor} seconds={false} />; the
            latest it can be put off to is{" "}
            <LocalTime iso={evac.deadline} seconds={false} />.
          </>
        ) : (
          <>
            Started <LocalTime iso={evac.scheduledFor} seconds={false} />;{" "}
            {Date.parse(expectedEnd) > now ? (
              <>
                expected back <LocalTime iso={expectedEnd} seconds={false} />.
              </>
            ) : (
              <>
                taking longer than the usual{" "}
                {Math.round(typicalRestartSeconds / 60)} minutes.
              </>
            )}
          </>
        )}
      </p>
      {onIncidentPage ? (
        <dl className="mt-2 grid grid-cols-2 gap-x-4 text-sm sm:flex sm:gap-6">
          <div>
            <dt className="text-xs font-medium tracking-wide uppercase opacity-80">
              Start
            </dt>
            <dd>
              <LocalTime iso={evac.scheduledFor} seconds={false} />
            </dd>
          </div>
          <div>
            <dt className="text-xs font-medium tracking-wide uppercase opacity-80">
              Expected end
            </dt>
            <dd>
              <LocalTime iso={expectedEnd} seconds={false} />
            </dd>
          </div>
        </dl>
      ) : null}
      {action ? (
        <p className="mt-3 text-sm">
          <span className="font-semibold">
            {scheduled ? "Before it: " : "Now: "}
          </span>
          {action}{" "}
          <Link
            href={`/incidents/${incident.id}#playbook`}
            className={`${linkClass} whitespace-nowrap`}
          >
            {onIncidentPage ? "All steps below" : "Open the playbook"}
          </Link>
        </p>
      ) : null}
      {scheduled && canAct ? (
        <div className="mt-3 flex flex-wrap gap-2">
          <button
            type="button"
            className={primaryButton}
            onClick={() => setDialog("start")}
          >
            Restart now
          </button>
          <button
            type="button"
            className={secondaryButton}
            onClick={() => setDialog("defer")}
          >
            Defer
          </button>
        </div>
      ) : null}
      <Dialog
        open={dialog === "start"}
        onClose={() => setDialog(null)}
        title={`Restart ${incident.vmName} now?`}
        confirmLabel="Restart now"
        busy={start.isPending}
        onConfirm={() => start.mutate({ id: incident.id })}
      >
        <p>
          {incident.vmName} stops and starts again on a healthy host within
          minutes. Everything held only in its memory is lost, as in a shutdown;
          its disks stay with it.
        </p>
        <ErrorNote error={start.error} />
      </Dialog>
      <Dialog
        open={dialog === "defer"}
        onClose={() => setDialog(null)}
        title={`Defer the restart of ${incident.vmName}`}
        confirmLabel="Defer"
        busy={defer.isPending}
        confirmDisabled={untilProblem !== null}
        onConfirm={() =>
          defer.mutate({
            id: incident.id,
            until: new Date(untilMs).toISOString(),
          })
        }
      >
        <p>
          Choose a later time for the restart, up to{" "}
          <LocalTime iso={evac.deadline} seconds={false} /> (the limit your
          provider sets).
        </p>
        <label className="block">
          <span className="mb-1 block text-xs font-medium">
            New time (your time zone)
          </span>
          <input
            type="datetime-local"
            className={inputClass}
            value={until}
            min={localInput(at + 60_000)}
            max={localInput(deadline)}
            onChange={(e) => setUntil(e.target.value)}
            aria-invalid={untilProblem !== null}
          />
        </label>
        <div className="flex flex-wrap gap-2">
          {[
            ["+1 h", at + 3600_000],
            ["+4 h", at + 4 * 3600_000],
            ["Latest", deadline],
          ].map(([label, t]) =>
            (t as number) <= deadline ? (
              <button
                key={label as string}
                type="button"
                className={secondaryButton}
                onClick={() => setUntil(localInput(t as number))}
              >
                {label}
              </button>
            ) : null,
          )}
        </div>
        {untilProblem ? (
          <p className="text-xs text-red-700 dark:text-red-300">
            {untilProblem}
          </p>
        ) : null}
        <ErrorNote error={defer.error} />
      </Dialog>
    </section>
  );
}
