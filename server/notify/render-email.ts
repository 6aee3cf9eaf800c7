import { render, toPlainText } from "@react-email/render";
import { createElement } from "react";
import type { ReactElement } from "react";
import DailyDigestEmail from "@/emails/daily-digest";
import type { DailyDigestEmailProps } from "@/emails/daily-digest";
import EndpointDisabledEmail from "@/emails/endpoint-disabled";
import type { EndpointDisabledEmailProps } from "@/emails/endpoint-disabled";
import IncidentOpenedEmail from "@/emails/incident-opened";
import type { IncidentOpenedEmailProps } from "@/emails/incident-opened";
import IncidentResolvedEmail from "@/emails/incident-resolved";
import type { IncidentResolvedEmailProps } from "@/emails/incident-resolved";
import IncidentUpdatedEmail from "@/emails/incident-updated";
import type { IncidentUpdatedEmailProps } from "@/emails/incident-updated";
import MemberInviteEmail from "@/emails/member-invite";
import type { MemberInviteEmailProps } from "@/emails/member-invite";
import SignInLinkEmail from "@/emails/sign-in-link";
import type { SignInLinkEmailProps } from "@/emails/sign-in-link";
import type { IncidentEmailProps } from "@/emails/_components/incident";
import { incidentName } from "@/emails/_components/incident-name";

export type EmailTemplate =
  | { kind: "incident_opened"; props: IncidentOpenedEmailProps }
  | { kind: "incident_updated"; props: IncidentUpdatedEmailProps }
  | { kind: "incident_resolved"; props: IncidentResolvedEmailProps }
  | { kind: "daily_digest"; props: DailyDigestEmailProps }
  | { kind: "sign_in_link"; props: SignInLinkEmailProps }
  | { kind: "member_invite"; props: MemberInviteEmailProps }
  | { kind: "endpoint_disabled"; props: EndpointDisabledEmailProps };

export type EmailKind = EmailTemplate["kind"];

export type RenderedEmail = { subject: string; html: string; text: string };

const MAX_SUBJECT = 200;

// Subjects are one header line: collapse whitespace (a "change" could carry a newline) and cap the length.
function oneLine(s: string, max = MAX_SUBJECT): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

// Named by the VM and what happened; the id is in the body, never leading.
function incidentSubject(
  tag: string,
  p: IncidentEmailProps,
  what: string,
): string {
  return oneLine(`[${tag}] ${incidentName(p.incident)}: ${what}`);
}

function build(t: EmailTemplate): { subject: string; element: ReactElement } {
  switch (t.kind) {
    case "incident_opened":
      return {
        subject: incidentSubject(
          t.props.incident.severity,
          t.props,
          "incident opened",
        ),
        element: createElement(IncidentOpenedEmail, t.props),
      };
    case "incident_updated":
      return {
        subject: incidentSubject(
          t.props.incident.severity,
          t.props,
          t.props.change ? `updated: ${t.props.change}` : "incident updated",
        ),
        element: createElement(IncidentUpdatedEmail, t.props),
      };
    case "incident_resolved":
      return {
        subject: incidentSubject("RESOLVED", t.props, "incident resolved"),
        element: createElement(IncidentResolvedEmail, t.props),
      };
    case "daily_digest": {
      const n = t.props.incidents.length;
      return {
        subject: oneLine(
          `Poisonwatch daily digest for ${t.props.tenantName}, ${t.props.date}: ${n} ${n === 1 ? "incident" : "incidents"}`,
        ),
        element: createElement(DailyDigestEmail, t.props),
      };
    }
    case "sign_in_link":
      return {
        subject: "Your Poisonwatch sign-in link",
        element: createElement(SignInLinkEmail, t.props),
      };
    case "member_invite":
      return {
        subject: oneLine(
          `You are invited to join ${t.props.tenantName} on Poisonwatch`,
        ),
        element: createElement(MemberInviteEmail, t.props),
      };
    case "endpoint_disabled":
      return {
        subject: oneLine(
          `Webhook endpoint disabled for ${t.props.tenantName}: ${t.props.endpointUrl}`,
        ),
        element: createElement(EndpointDisabledEmail, t.props),
      };
  }
}

// html-to-text upper-cases headings by default, which would mangle VM names in the text part.
const TEXT_SELECTORS = ["h1", "h2", "h3"].map((selector) => ({
  selector,
  options: { uppercase: false },
}));

export async function renderEmail(t: EmailTemplate): Promise<RenderedEmail> {
  const { subject, element } = build(t);
  const html = await render(element);
  const text = toPlainText(html, { selectors: TEXT_SELECTORS });
  return { subject, html, text };
}
