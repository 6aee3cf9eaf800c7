"use client";
import { useSuspenseQuery } from "@tanstack/react-query";
import { Fragment } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { StatusBadge } from "@/app/_components/badges";
import { LocalTime } from "@/app/_components/time";
import { Breadcrumb, Card, Facts, linkClass } from "@/app/_components/ui";

// The plain-text part with its links made clickable (this is how a sign-in link is used
// without an email service).
function Linkified({ text }: { text: string }) {
  const parts = text.split(/(https?:\/\/[^\s<>"')\]]+)/g);
  return (
    <>
      {parts.map((p, i) =>
        /^https?:\/\//.test(p) ? (
          <a key={i} href={p} className={`${linkClass} break-all`}>
            {p}
          </a>
        ) : (
          <Fragment key={i}>{p}</Fragment>
        ),
      )}
    </>
  );
}

export function EmailView({
  emailId,
  scope = "tenant",
}: {
  emailId: string;
  scope?: "tenant" | "operator";
}) {
  const trpc = useTRPC();
  const { data: m } = useSuspenseQuery(
    scope === "operator"
      ? trpc.operator.outboxEmail.queryOptions({ id: emailId })
      : trpc.outbox.byId.queryOptions({ id: emailId }),
  );
  return (
    <div className="space-y-6">
      <div>
        <Breadcrumb
          href={scope === "operator" ? "/operator/outbox" : "/settings/outbox"}
          label="Outbox"
          current={m.id}
        />
        {/* under settings the page's heading is "Settings" */}
        {scope === "operator" ? (
          <h1 className="text-2xl font-semibold tracking-tight">{m.subject}</h1>
        ) : (
          <h2 className="text-xl font-semibold tracking-tight">{m.subject}</h2>
        )}
      </div>
      <Card title="Message" id="message">
        <Facts
          items={[
            ["To", m.to.join(", ")],
            ...(scope === "operator"
              ? [
                  [
                    "Tenant",
                    m.tenantId ?? "— (a person's own sign-in mail)",
                  ] as [string, string],
                ]
              : []),
            [
              "Status",
              <StatusBadge
                key="s"
                status={m.status}
                label={
                  m.status === "outbox"
                    ? "in outbox (not sent: no email service)"
                    : m.status
                }
              />,
            ],
            ["Created", <LocalTime key="c" iso={m.createdAt} />],
            [
              "Sent",
              m.sentAt && m.status === "sent" ? (
                <LocalTime key="t" iso={m.sentAt} />
              ) : (
                "—"
              ),
            ],
            ["Kind", m.kind.replace(/_/g, " ")],
            ["Attempts", m.attempts],
          ]}
        />
        {m.lastError ? (
          <p className="px-4 pb-4 text-sm text-red-700 dark:text-red-300">
            Last error: {m.lastError}
          </p>
        ) : null}
      </Card>
      {m.html === null || m.text === null ? (
        <Card title="Content withheld" id="withheld">
          <p data-testid="email-withheld" className="p-4 text-sm leading-6">
            This email signs {m.to.join(", ")} in. Its link works only for that
            person, so only they can read it: in their own mailbox, or (without
            an email service) through the operator of this installation.
          </p>
        </Card>
      ) : (
        <div className="space-y-6">
          <Card title="As the recipient sees it" id="html">
            {/* no scripts, no same-origin access: the email's HTML is rendered, not trusted */}
            <iframe
              title={`Email: ${m.subject}`}
              sandbox="allow-popups allow-popups-to-escape-sandbox"
              srcDoc={m.html}
              className="h-[32rem] w-full rounded-b-lg bg-white"
            />
          </Card>
          <Card title="Plain text" id="text">
            <pre
              data-testid="email-text"
              className="p-4 font-mono text-sm leading-6 break-words whitespace-pre-wrap"
            >
              <Linkified text={m.text} />
            </pre>
          </Card>
        </div>
      )}
    </div>
  );
}
