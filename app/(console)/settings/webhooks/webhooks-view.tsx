"use client";
import {
  useMutation,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { useId, useState } from "react";
import type { Role } from "@/db/constants";
import { WEBHOOK_EVENT_TYPES } from "@/db/constants";
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
  SecretOnce,
} from "../_components/subscriptions";

// Every event type a subscription can name; webhook.test goes to one endpoint on request only.
const SUBSCRIBABLE = WEBHOOK_EVENT_TYPES.filter((t) => t !== "webhook.test");
const DEFAULT_TYPES = SUBSCRIBABLE.filter((t) => t !== "memory_error.detected");

export function WebhooksView({ role }: { role: Role }) {
  const trpc = useTRPC();
  const { data } = useSuspenseQuery(
    trpc.notification.listWebhooks.queryOptions({ limit: 100 }),
  );
  const canEdit = role !== "viewer";
  const [made, setMade] = useState<{
    id: string;
    url: string;
    secret: string;
  } | null>(null);

  return (
    <div className="space-y-6">
      {made ? (
        <SecretOnce
          title="Webhook endpoint created"
          secret={made.secret}
          note={
            <>
              Then{" "}
              <TextLink href={`/settings/webhooks/${made.id}`}>
                open the endpoint
              </TextLink>{" "}
              to send a test.
            </>
          }
          onDone={() => setMade(null)}
        />
      ) : null}
      <Card title="Webhook endpoints" id="webhook-endpoints">
        <div className="space-y-2 px-4 pt-3">
          <p className="text-sm text-slate-600 dark:text-slate-300">
            Poisonwatch POSTs signed Standard Webhooks messages to these URLs,
            retrying for more than a day. Each endpoint has its delivery log.
          </p>
          {!canEdit ? (
            <MemberOnlyNote
              what="add or change webhook endpoints"
              role={role}
            />
          ) : null}
        </div>
        {data.data.length ? (
          <Table
            caption="Webhook endpoints"
            columns={["URL", "Events", "Status", "Created"]}
          >
            <tbody className="divide-y divide-slate-200 dark:divide-slate-800">
              {data.data.map((w) => (
                <tr key={w.id}>
                  <td className={`${tdClass} max-w-md`}>
                    <TextLink
                      href={`/settings/webhooks/${w.id}`}
                      className="font-mono text-xs break-all"
                    >
                      {w.url}
                    </TextLink>
                    {w.description ? (
                      <p className="mt-0.5 text-xs text-slate-600 dark:text-slate-400">
                        {w.description}
                      </p>
                    ) : null}
                  </td>
                  <td className={`${tdClass} text-xs`}>
                    {w.eventTypes.join(", ")}
                  </td>
                  <td className={tdClass}>
                    <StatusCell
                      status={w.status}
                      disabledReason={w.disabledReason}
                    />
                  </td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    <LocalTime iso={w.createdAt} seconds={false} />
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <EmptyState title="No webhook endpoints">
            {canEdit
              ? "Add one below to receive incidents as they happen."
              : null}
          </EmptyState>
        )}
      </Card>
      {canEdit ? <CreateWebhook onCreated={setMade} /> : null}
    </div>
  );
}

function CreateWebhook({
  onCreated,
}: {
  onCreated: (w: { id: string; url: string; secret: string }) => void;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState<string[]>(DEFAULT_TYPES);
  const [projects, setProjects] = useState("");
  const [description, setDescription] = useState("");
  const create = useMutation(
    trpc.notification.createWebhook.mutationOptions({
      onSuccess: (w) => {
        onCreated(w);
        setUrl("");
        setProjects("");
        setDescription("");
        setTypes(DEFAULT_TYPES);
        return qc.invalidateQueries({
          queryKey: trpc.notification.listWebhooks.queryKey(),
        });
      },
    }),
  );
  const ids = { url: useId(), urlErr: useId() };
  const errors = fieldErrors(create.error);
  const errOf = (k: string) => errorAt(errors, k);
  const projectIds = parseProjectIds(projects);

  return (
    <Card title="Add a webhook endpoint" id="create-webhook">
      <form
        className="space-y-4 p-4"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({
            url: url.trim(),
            eventTypes: types as (typeof SUBSCRIBABLE)[number][],
            ...(projectIds.length ? { projectIds } : {}),
            ...(description.trim() ? { description: description.trim() } : {}),
          });
        }}
      >
        <div>
          <label htmlFor={ids.url} className="mb-1 block text-sm font-medium">
            Endpoint URL
          </label>
          <input
            id={ids.url}
            type="url"
            required
            value={url}
            maxLength={4096}
            onChange={(e) => setUrl(e.target.value)}
            className={`${inputClass} font-mono`}
            placeholder="https://hooks.example.com/poisonwatch"
            aria-invalid={errOf("url") ? true : undefined}
            aria-describedby={errOf("url") ? ids.urlErr : undefined}
          />
          <FieldError id={ids.urlErr} message={errOf("url")} />
        </div>
        <EventTypesFieldset
          types={SUBSCRIBABLE}
          selected={types}
          onChange={setTypes}
          error={errOf("eventTypes")}
          note={(t) =>
            t === "memory_error.detected" ? (
              <span className="text-xs text-slate-600 dark:text-slate-400">
                (every event, high volume)
              </span>
            ) : null
          }
        />
        <ProjectsAndDescription
          projects={projects}
          onProjects={setProjects}
          description={description}
          onDescription={setDescription}
          projectsError={errOf("projectIds")}
          descriptionPlaceholder="e.g. PagerDuty bridge"
        />
        <CreateSubmit
          label="Add endpoint"
          pending={create.isPending}
          noTypes={types.length === 0}
        />
        <ErrorNote error={readableError(create.error)} />
      </form>
    </Card>
  );
}
