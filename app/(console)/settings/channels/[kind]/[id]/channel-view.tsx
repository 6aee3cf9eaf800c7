"use client";
import {
  useMutation,
  useQueryClient,
  useSuspenseQuery,
} from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import type { Role } from "@/db/constants";
import type { ChannelKind } from "@/server/notify/channel-subscriptions";
import { ConfirmButton } from "@/app/_components/dialog";
import { useTRPC } from "@/app/_trpc/client";
import {
  Card,
  dangerButton,
  EmptyState,
  ErrorNote,
  Facts,
  TextLink,
} from "@/app/_components/ui";
import {
  AttemptLine,
  DeliveryLogCard,
  DeliveryTable,
  DisabledNotice,
  EnableToggle,
  filterFacts,
  MemberOnlyNote,
  SendTestButton,
  Pill,
  readableError,
} from "../../../_components/subscriptions";
import type { DeliveryRowView } from "../../../_components/subscriptions";
import { CHANNEL_PAGES, maskedTarget } from "../../kinds";

export function ChannelView({
  id,
  kind,
  role,
}: {
  id: string;
  kind: ChannelKind;
  role: Role;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const page = CHANNEL_PAGES[kind];
  const canEdit = role !== "viewer";
  const listPath = `/settings/channels/${kind}`;
  const { data: ch } = useSuspenseQuery(trpc.channel.byId.queryOptions({ id }));
  // the delivery of the last test sent from this page, whose answer is shown beside the button
  const [testId, setTestId] = useState<string | null>(null);
  const deliveriesOpts = trpc.channel.deliveries.queryOptions({
    id,
    limit: 50,
  });
  const {
    data: deliveries,
    isFetching,
    refetch,
  } = useSuspenseQuery({
    ...deliveriesOpts,
    // while something is on its way (or the test's first answer is awaited), watch it arrive
    refetchInterval: (q) =>
      q.state.data?.data.some(
        (d) =>
          d.status === "pending" || (d.id === testId && !d.attempts.length),
      )
        ? 1000
        : false,
  });
  const refresh = () =>
    Promise.all([
      qc.invalidateQueries({
        queryKey: trpc.channel.byId.queryKey({ id }),
      }),
      qc.invalidateQueries({ queryKey: deliveriesOpts.queryKey }),
      qc.invalidateQueries({ queryKey: trpc.channel.list.queryKey() }),
    ]);
  const update = useMutation(
    trpc.channel.update.mutationOptions({ onSuccess: refresh }),
  );
  const test = useMutation(
    trpc.channel.sendTest.mutationOptions({
      onSuccess: (r) => {
        setTestId(r.deliveryId);
        return refresh();
      },
    }),
  );
  const del = useMutation(
    trpc.channel.delete.mutationOptions({
      onSuccess: async () => {
        await qc.invalidateQueries({ queryKey: trpc.channel.list.queryKey() });
        router.push(listPath);
      },
    }),
  );
  const busy = update.isPending || test.isPending || del.isPending;
  const actionError = update.error ?? test.error ?? del.error;
  const target = maskedTarget(ch);
  const testDelivery = testId
    ? deliveries.data.find((d) => d.id === testId)
    : undefined;

  return (
    <div className="space-y-6">
      <p className="text-sm">
        <TextLink href={listPath}>← All {page.label} channels</TextLink>
      </p>
      {ch.status === "disabled" ? (
        <DisabledNotice
          noun="channel"
          reason={ch.disabledReason}
          meaning="Nothing is sent to it until it is enabled again."
        />
      ) : null}
      <Card
        title={
          <span className="font-mono text-sm break-all">
            {page.label} · {target}
          </span>
        }
        id="channel"
      >
        <Facts
          items={[
            ["Status", <Pill key="s" status={ch.status} />],
            [
              page.field === "url" ? "URL (masked)" : "Routing key (masked)",
              <span key="t" className="font-mono text-xs break-all">
                {target}
              </span>,
            ],
            [
              "Id",
              <span key="i" className="font-mono text-xs">
                {ch.id}
              </span>,
            ],
            ...filterFacts(ch),
          ]}
        />
        <div className="space-y-3 border-t border-slate-200 p-4 dark:border-slate-800">
          {canEdit ? (
            <div className="flex flex-wrap gap-2">
              <SendTestButton
                enabled={ch.status === "enabled"}
                noun="channel"
                busy={busy}
                pending={test.isPending}
                onSend={() => {
                  setTestId(null);
                  test.mutate({ id });
                }}
              />
              <EnableToggle
                enabled={ch.status === "enabled"}
                noun="channel"
                busy={busy}
                onChange={(status) => update.mutate({ id, status })}
              />
              <ConfirmButton
                label="Delete"
                title={`Delete this ${page.label} channel?`}
                className={dangerButton}
                disabled={busy}
                onConfirm={() => del.mutate({ id })}
              >
                <p className="font-mono break-all">{target}</p>
                <p>Its pending messages fail and its delivery log goes.</p>
              </ConfirmButton>
            </div>
          ) : (
            <MemberOnlyNote
              what="send tests, disable or delete channels"
              role={role}
            />
          )}
          {testId ? (
            <TestAnswer label={page.label} delivery={testDelivery} />
          ) : null}
          <ErrorNote error={readableError(actionError)} />
        </div>
      </Card>
      <DeliveryLogCard
        intro={`Newest first, each with every attempt and what ${page.label} answered.`}
        fetching={isFetching}
        onRefresh={() => void refetch()}
      >
        {deliveries.data.length ? (
          <DeliveryTable
            deliveries={deliveries.data}
            caption={`Deliveries of this ${page.label} channel`}
          />
        ) : (
          <EmptyState title="No deliveries yet">
            Messages sent to this channel appear here with every attempt.
          </EmptyState>
        )}
      </DeliveryLogCard>
    </div>
  );
}

// What the platform answered the test: its first attempt (status, time taken, the body).
function TestAnswer({
  label,
  delivery,
}: {
  label: string;
  delivery: DeliveryRowView | undefined;
}) {
  const a = delivery?.attempts[0];
  return (
    <div
      role="status"
      data-testid="test-answer"
      className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm dark:border-slate-700 dark:bg-slate-900"
    >
      {a ? (
        <>
          <p className="font-medium">
            {label} answered{" "}
            {a.statusCode !== null ? `HTTP ${a.statusCode}` : "nothing"}
            {a.statusCode !== null && a.statusCode < 300
              ? " — the test arrived."
              : " — the test did not arrive."}
          </p>
          <div className="mt-1 text-xs">
            <AttemptLine a={a} open />
            {a.responseExcerpt ? null : (
              <span className="text-slate-600 dark:text-slate-400">
                {" "}
                · empty body
              </span>
            )}
          </div>
        </>
      ) : (
        <p>Test message queued; waiting for {label}&apos;s answer…</p>
      )}
    </div>
  );
}
