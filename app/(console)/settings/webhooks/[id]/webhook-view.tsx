"use client";
import {
  useMutation,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { ConfirmButton } from "@/app/_components/dialog";
import { useRouter } from "next/navigation";
import { useId, useState } from "react";
import type { Role } from "@/db/constants";
import { useTRPC } from "@/app/_trpc/client";
import { LocalTime } from "@/app/_components/time";
import {
  Card,
  dangerButton,
  EmptyState,
  ErrorNote,
  Facts,
  inputClass,
  primaryButton,
  secondaryButton,
  TextLink,
} from "@/app/_components/ui";
import {
  DeliveryLogCard,
  DeliveryTable,
  DisabledNotice,
  EnableToggle,
  fieldErrors,
  filterFacts,
  MemberOnlyNote,
  SendTestButton,
  Pill,
  readableError,
  SecretOnce,
} from "../../_components/subscriptions";

export function WebhookView({ id, role }: { id: string; role: Role }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const canEdit = role !== "viewer";
  const { data: ep } = useSuspenseQuery(
    trpc.notification.webhookById.queryOptions({ id }),
  );
  const refresh = () =>
    Promise.all([
      qc.invalidateQueries({
        queryKey: trpc.notification.webhookById.queryKey({ id }),
      }),
      qc.invalidateQueries({
        queryKey: trpc.notification.listDeliveries.queryKey(),
      }),
      qc.invalidateQueries({
        queryKey: trpc.notification.listWebhooks.queryKey(),
      }),
    ]);
  const [secret, setSecret] = useState<{
    secret: string;
    previousSecretExpiresAt: string | null;
  } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const update = useMutation(
    trpc.notification.updateWebhook.mutationOptions({ onSuccess: refresh }),
  );
  const test = useMutation(
    trpc.notification.sendTest.mutationOptions({
      onSuccess: (r) => {
        setNotice(`Test message ${r.messageId} queued.`);
        return refresh();
      },
    }),
  );
  const rotate = useMutation(
    trpc.notification.rotateSecret.mutationOptions({
      onSuccess: (r) => {
        setSecret({
          secret: r.secret,
          previousSecretExpiresAt: r.previousSecretExpiresAt,
        });
        return refresh();
      },
    }),
  );
  const del = useMutation(
    trpc.notification.deleteWebhook.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({
          queryKey: trpc.notification.listWebhooks.queryKey(),
        });
        router.push("/settings/webhooks");
      },
    }),
  );
  // one outcome at a time: a new action clears the last one's note
  const act = <T,>(m: { mutate: (v: T) => void }, v: T) => {
    setNotice(null);
    m.mutate(v);
  };
  const busy =
    update.isPending || test.isPending || rotate.isPending || del.isPending;
  const actionError = update.error ?? test.error ?? rotate.error ?? del.error;

  return (
    <div className="space-y-6">
      <p className="text-sm">
        <TextLink href="/settings/webhooks">← All webhook endpoints</TextLink>
      </p>
      {secret ? (
        <SecretOnce
          title="New signing secret"
          secret={secret.secret}
          note={
            secret.previousSecretExpiresAt ? (
              <>
                The previous secret keeps signing beside it until{" "}
                <LocalTime
                  iso={secret.previousSecretExpiresAt}
                  seconds={false}
                />
                .
              </>
            ) : null
          }
          onDone={() => setSecret(null)}
        />
      ) : null}
      {ep.status === "disabled" ? (
        <DisabledNotice
          noun="endpoint"
          reason={ep.disabledReason}
          meaning="Nothing is sent to it until it is re-enabled; its failed messages can then be recovered below."
          action={
            canEdit ? (
              <button
                type="button"
                className={`${primaryButton} mt-3`}
                disabled={busy}
                onClick={() => act(update, { id, status: "enabled" as const })}
              >
                Re-enable
              </button>
            ) : null
          }
        />
      ) : null}
      <Card
        title={<span className="font-mono text-sm break-all">{ep.url}</span>}
        id="endpoint"
      >
        <Facts
          items={[
            ["Status", <Pill key="s" status={ep.status} />],
            [
              "Id",
              <span key="i" className="font-mono text-xs">
                {ep.id}
              </span>,
            ],
            ...filterFacts(ep),
          ]}
        />
        <div className="space-y-3 border-t border-slate-200 p-4 dark:border-slate-800">
          {canEdit ? (
            <div className="flex flex-wrap gap-2">
              <SendTestButton
                enabled={ep.status === "enabled"}
                noun="endpoint"
                busy={busy}
                pending={test.isPending}
                onSend={() => {
                  setNotice(null);
                  test.mutate({ id });
                }}
              />
              <EnableToggle
                enabled={ep.status === "enabled"}
                noun="endpoint"
                busy={busy}
                onChange={(status) => act(update, { id, status })}
              />
              <ConfirmButton
                label="Rotate secret"
                title="Rotate the signing secret?"
                className={secondaryButton}
                disabled={busy}
                onConfirm={() => act(rotate, { id })}
              >
                <p>
                  The current secret keeps signing beside the new one for 24
                  hours.
                </p>
              </ConfirmButton>
              <ConfirmButton
                label="Delete"
                title="Delete this endpoint?"
                className={dangerButton}
                disabled={busy}
                onConfirm={() => act(del, { id })}
              >
                <p className="break-all">{ep.url}</p>
                <p>Its pending deliveries fail.</p>
              </ConfirmButton>
            </div>
          ) : (
            <MemberOnlyNote
              what="send tests, rotate the secret, disable or delete endpoints"
              role={role}
            />
          )}
          {notice ? (
            <p
              role="status"
              className="text-sm text-emerald-700 dark:text-emerald-300"
            >
              {notice}
            </p>
          ) : null}
          <ErrorNote error={readableError(actionError)} />
        </div>
      </Card>
      <Deliveries id={id} canEdit={canEdit} enabled={ep.status === "enabled"} />
      {canEdit ? <Recover id={id} enabled={ep.status === "enabled"} /> : null}
    </div>
  );
}

function Deliveries({
  id,
  canEdit,
  enabled,
}: {
  id: string;
  canEdit: boolean;
  enabled: boolean;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const opts = trpc.notification.listDeliveries.queryOptions({
    endpointId: id,
    limit: 50,
  });
  const { data, isFetching, refetch } = useSuspenseQuery({
    ...opts,
    // while something is on its way, watch it arrive
    refetchInterval: (q) =>
      q.state.data?.data.some((d) => d.status === "pending") ? 2000 : false,
  });
  const retry = useMutation(
    trpc.notification.retryDelivery.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: opts.queryKey }),
    }),
  );

  return (
    <DeliveryLogCard
      intro="Newest first. A replay sends the same message again (same webhook-id), signed afresh."
      fetching={isFetching}
      onRefresh={() => void refetch()}
    >
      <div className="px-4 pt-2">
        <ErrorNote error={readableError(retry.error)} />
      </div>
      {data.data.length ? (
        <DeliveryTable
          deliveries={data.data}
          caption="Deliveries of this endpoint"
          action={
            canEdit
              ? {
                  label: "Actions",
                  cell: (d) => (
                    <button
                      type="button"
                      className={secondaryButton}
                      disabled={
                        retry.isPending || !enabled || d.status === "pending"
                      }
                      title={
                        !enabled
                          ? "Re-enable the endpoint to replay"
                          : undefined
                      }
                      onClick={() =>
                        retry.mutate({ endpointId: id, deliveryId: d.id })
                      }
                    >
                      Replay<span className="sr-only"> {d.messageId}</span>
                    </button>
                  ),
                }
              : undefined
          }
        />
      ) : (
        <EmptyState title="No deliveries yet">
          Messages sent to this endpoint appear here with every attempt.
        </EmptyState>
      )}
    </DeliveryLogCard>
  );
}

function toLocalInput(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

function Recover({ id, enabled }: { id: string; enabled: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [since, setSince] = useState(() =>
    toLocalInput(new Date(Date.now() - 24 * 3600_000)),
  );
  const [done, setDone] = useState<number | null>(null);
  const recover = useMutation(
    trpc.notification.recover.mutationOptions({
      onSuccess: (r) => {
        setDone(r.count);
        return qc.invalidateQueries({
          queryKey: trpc.notification.listDeliveries.queryKey(),
        });
      },
    }),
  );
  const ids = { since: useId(), help: useId(), err: useId() };
  const sinceError = fieldErrors(recover.error).since;
  return (
    <Card title="Recover failed messages" id="recover">
      <form
        className="flex flex-wrap items-end gap-3 p-4"
        onSubmit={(e) => {
          e.preventDefault();
          setDone(null);
          const d = new Date(since);
          if (Number.isNaN(d.getTime())) return;
          recover.mutate({ endpointId: id, since: d.toISOString() });
        }}
      >
        <div className="min-w-64">
          <label htmlFor={ids.since} className="mb-1 block text-sm font-medium">
            Resend every failed message since
          </label>
          <input
            id={ids.since}
            type="datetime-local"
            required
            value={since}
            onChange={(e) => setSince(e.target.value)}
            className={inputClass}
            aria-describedby={`${ids.help}${sinceError ? ` ${ids.err}` : ""}`}
            aria-invalid={sinceError ? true : undefined}
          />
        </div>
        <button
          type="submit"
          className={primaryButton}
          disabled={recover.isPending || !enabled}
        >
          {recover.isPending ? "Recovering…" : "Recover"}
        </button>
        <p
          id={ids.help}
          className="basis-full text-xs text-slate-600 dark:text-slate-400"
        >
          In your local time; at most 14 days back.
          {!enabled ? " Re-enable the endpoint first." : ""}
        </p>
        {sinceError ? (
          <p
            id={ids.err}
            role="alert"
            className="basis-full text-sm text-red-700 dark:text-red-300"
          >
            {readableError(recover.error)?.message ?? sinceError}
          </p>
        ) : null}
        {done !== null ? (
          <p
            role="status"
            className="basis-full text-sm text-emerald-700 dark:text-emerald-300"
          >
            {done === 1 ? "1 message is" : `${done} messages are`} being sent
            again.
          </p>
        ) : null}
        {sinceError ? null : (
          <div className="basis-full">
            <ErrorNote error={readableError(recover.error)} />
          </div>
        )}
      </form>
    </Card>
  );
}
