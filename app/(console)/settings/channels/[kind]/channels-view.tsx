"use client";
import {
  useMutation,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { useId, useState } from "react";
import type { Role } from "@/db/constants";
import type { ChannelKind } from "@/server/notify/channel-subscriptions";
import { useTRPC } from "@/app/_trpc/client";
import { LocalTime } from "@/app/_components/time";
import {
  Card,
  EmptyState,
  ErrorNote,
  inputClass,
  Table,
  tdClass,
  TextLink,
} from "@/app/_components/ui";
import {
  CreateSubmit,
  errorAt,
  EventTypesFieldset,
  FieldError,
  fieldErrors,
  MemberOnlyNote,
  parseProjectIds,
  StatusCell,
  ProjectsAndDescription,
  readableError,
} from "../../_components/subscriptions";
import { CHANNEL_PAGES, maskedTarget } from "../kinds";

export function ChannelsView({
  kind,
  role,
}: {
  kind: ChannelKind;
  role: Role;
}) {
  const trpc = useTRPC();
  const page = CHANNEL_PAGES[kind];
  const { data } = useSuspenseQuery(
    trpc.channel.list.queryOptions({ kind, limit: 100 }),
  );
  const canEdit = role !== "viewer";
  const [made, setMade] = useState<{ id: string; target: string } | null>(null);

  return (
    <div className="space-y-6">
      {made ? (
        <p
          role="status"
          className="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950/60 dark:text-emerald-100"
        >
          {page.label} channel added; from now on its{" "}
          {page.field === "url" ? "URL" : "routing key"} is shown masked (
          <span className="font-mono break-all">{made.target}</span>).{" "}
          <TextLink href={`/settings/channels/${kind}/${made.id}`}>
            Open the channel
          </TextLink>{" "}
          to send a test.
        </p>
      ) : null}
      <Card title={`${page.label} channels`} id="channels">
        <div className="space-y-2 px-4 pt-3">
          <p className="text-sm text-slate-600 dark:text-slate-300">
            {page.purpose} Failed messages are retried like webhooks; each
            channel has its delivery log.
          </p>
          {!canEdit ? (
            <MemberOnlyNote
              what={`add or change ${page.label} channels`}
              role={role}
            />
          ) : null}
        </div>
        {data.data.length ? (
          <Table
            caption={`${page.label} channels`}
            columns={[
              page.field === "url" ? "URL" : "Routing key",
              "Events",
              "Projects",
              "Status",
              "Created",
            ]}
          >
            <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
              {data.data.map((c) => (
                <tr key={c.id}>
                  <td className={`${tdClass} max-w-md`}>
                    <TextLink
                      href={`/settings/channels/${kind}/${c.id}`}
                      className="font-mono text-xs break-all"
                    >
                      {maskedTarget(c)}
                    </TextLink>
                    {c.description ? (
                      <p className="mt-0.5 text-xs break-words text-slate-600 dark:text-slate-400">
                        {c.description}
                      </p>
                    ) : null}
                  </td>
                  <td className={`${tdClass} text-xs break-words`}>
                    {c.eventTypes.join(", ")}
                  </td>
                  <td className={`${tdClass} text-xs break-all`}>
                    {c.projectIds?.join(", ") ?? "all"}
                  </td>
                  <td className={tdClass}>
                    <StatusCell
                      status={c.status}
                      disabledReason={c.disabledReason}
                    />
                  </td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    <LocalTime iso={c.createdAt} seconds={false} />
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <EmptyState title={`No ${page.label} channels`}>
            {canEdit ? "Add one below." : null}
          </EmptyState>
        )}
      </Card>
      {canEdit ? (
        <CreateChannel
          kind={kind}
          onCreated={(c) => setMade({ id: c.id, target: maskedTarget(c) })}
        />
      ) : null}
    </div>
  );
}

function CreateChannel({
  kind,
  onCreated,
}: {
  kind: ChannelKind;
  onCreated: (c: { id: string; url?: string; routingKey?: string }) => void;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const page = CHANNEL_PAGES[kind];
  const { data: kinds } = useSuspenseQuery(trpc.channel.kinds.queryOptions());
  const spec = kinds.find((k) => k.kind === kind)!;
  const [target, setTarget] = useState("");
  const [types, setTypes] = useState<string[]>(spec.defaultEventTypes);
  const [projects, setProjects] = useState("");
  const [description, setDescription] = useState("");
  const create = useMutation(
    trpc.channel.create.mutationOptions({
      onSuccess: async (c) => {
        // what the list answers from now on: the masked form
        const masked = await qc.fetchQuery(
          trpc.channel.byId.queryOptions({ id: c.id }),
        );
        onCreated(masked);
        setTarget("");
        setProjects("");
        setDescription("");
        setTypes(spec.defaultEventTypes);
        return qc.invalidateQueries({
          queryKey: trpc.channel.list.queryKey(),
        });
      },
    }),
  );
  const ids = { target: useId(), targetErr: useId(), help: useId() };
  const errors = fieldErrors(create.error);
  const errOf = (k: string) => errorAt(errors, k);
  const targetError = errOf(page.field);
  const projectIds = parseProjectIds(projects);

  return (
    <Card title={`Add a ${page.label} channel`} id="create-channel">
      <form
        className="space-y-4 p-4"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const common = {
            eventTypes: types as never,
            ...(projectIds.length ? { projectIds } : {}),
            ...(description.trim() ? { description: description.trim() } : {}),
          };
          create.mutate(
            kind === "pagerduty"
              ? { kind, routingKey: target.trim(), ...common }
              : { kind, url: target.trim(), ...common },
          );
        }}
      >
        <div>
          <label
            htmlFor={ids.target}
            className="mb-1 block text-sm font-medium"
          >
            {page.fieldLabel}
          </label>
          <input
            id={ids.target}
            type={page.field === "url" ? "url" : "text"}
            autoComplete="off"
            spellCheck={false}
            value={target}
            maxLength={2048}
            onChange={(e) => setTarget(e.target.value)}
            className={`${inputClass} font-mono`}
            placeholder={page.placeholder}
            aria-invalid={targetError ? true : undefined}
            aria-describedby={`${ids.help}${targetError ? ` ${ids.targetErr}` : ""}`}
          />
          <p
            id={ids.help}
            className="mt-1 text-xs text-slate-600 dark:text-slate-400"
          >
            {page.how} It is shown whole only now, masked afterwards.
          </p>
          <FieldError id={ids.targetErr} message={targetError} />
        </div>
        <EventTypesFieldset
          types={spec.eventTypes}
          selected={types}
          onChange={setTypes}
          error={errOf("eventTypes")}
        />
        <ProjectsAndDescription
          projects={projects}
          onProjects={setProjects}
          description={description}
          onDescription={setDescription}
          projectsError={errOf("projectIds")}
          descriptionPlaceholder={
            kind === "pagerduty" ? "e.g. Database on-call" : "e.g. #ops-alerts"
          }
        />
        <CreateSubmit
          label={`Add ${page.label} channel`}
          pending={create.isPending}
          noTypes={types.length === 0}
        />
        <ErrorNote error={readableError(create.error)} />
      </form>
    </Card>
  );
}
