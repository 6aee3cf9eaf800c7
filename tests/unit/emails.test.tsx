import { render } from "@react-email/render";
import { describe, expect, it } from "vitest";
import DailyDigestEmail from "@/emails/daily-digest";
import EndpointDisabledEmail from "@/emails/endpoint-disabled";
import IncidentOpenedEmail from "@/emails/incident-opened";
import IncidentResolvedEmail from "@/emails/incident-resolved";
import IncidentUpdatedEmail from "@/emails/incident-updated";
import MemberInviteEmail from "@/emails/member-invite";
import SignInLinkEmail from "@/emails/sign-in-link";
import { renderEmail } from "@/server/notify/render-email";
import type { EmailTemplate } from "@/server/notify/render-email";

const previews: EmailTemplate[] = [
  { kind: "incident_opened", props: IncidentOpenedEmail.PreviewProps },
  { kind: "incident_updated", props: IncidentUpdatedEmail.PreviewProps },
  { kind: "incident_resolved", props: IncidentResolvedEmail.PreviewProps },
  { kind: "daily_digest", props: DailyDigestEmail.PreviewProps },
  { kind: "sign_in_link", props: SignInLinkEmail.PreviewProps },
  { kind: "member_invite", props: MemberInviteEmail.PreviewProps },
  { kind: "endpoint_disabled", props: EndpointDisabledEmail.PreviewProps },
];

const incidentProps = IncidentOpenedEmail.PreviewProps;
const incidentLink = `https://poisonwatch.example.com/incidents/${incidentProps.incident.id}`;

describe("email templates", () => {
  it("render their PreviewProps directly with @react-email/render", async () => {
    const elements = [
      <IncidentOpenedEmail key="1" {...IncidentOpenedEmail.PreviewProps} />,
      <IncidentUpdatedEmail key="2" {...IncidentUpdatedEmail.PreviewProps} />,
      <IncidentResolvedEmail key="3" {...IncidentResolvedEmail.PreviewProps} />,
      <DailyDigestEmail key="4" {...DailyDigestEmail.PreviewProps} />,
      <SignInLinkEmail key="5" {...SignInLinkEmail.PreviewProps} />,
      <MemberInviteEmail key="6" {...MemberInviteEmail.PreviewProps} />,
      <EndpointDisabledEmail key="7" {...EndpointDisabledEmail.PreviewProps} />,
    ];
    for (const el of elements) {
      const html = await render(el);
      expect(html).toMatch(/^<!DOCTYPE html/);
      expect(html).toContain("Poisonwatch");
      expect((await render(el, { plainText: true })).length).toBeGreaterThan(
        50,
      );
    }
  });

  it.each(previews.map((t) => [t.kind, t] as const))(
    "%s renders a subject, HTML and a plain-text part",
    async (_kind, t) => {
      const r = await renderEmail(t);
      expect(r.subject.length).toBeGreaterThan(10);
      expect(r.subject).not.toMatch(/[\r\n]/);
      expect(r.html).toMatch(/^<!DOCTYPE html/);
      expect(r.html).toContain("Poisonwatch");
      expect(r.text).toContain("Poisonwatch");
      expect(r.text).not.toMatch(/<\/?[a-z][^>]*>/i);
      expect(r.text).not.toContain("Or copy this link");
    },
  );
});

describe("incident emails", () => {
  it("opened: subject, VM name and the console link in both parts", async () => {
    const r = await renderEmail({
      kind: "incident_opened",
      props: incidentProps,
    });
    expect(r.subject).toBe(
      "[CRITICAL] web-1 — memory error in a user process: incident opened",
    );
    expect(r.subject).not.toContain(incidentProps.incident.id);
    for (const part of [r.html, r.text]) {
      expect(part).toContain("web-1");
      expect(part).toContain(incidentLink);
      expect(part).toContain(
        "https://poisonwatch.example.com/settings/notifications",
      );
      expect(part).toContain("Manage notifications");
    }
    expect(r.text).toContain("web-1 — memory error in a user process");
    expect(r.text).toContain(incidentProps.incident.id);
    expect(r.text).toContain("VM: web-1 (vm-7f3a)");
    expect(r.text).toContain("Opened: 2025-10-13 18:59 UTC");
    expect(r.text).toContain("1 error on 1 distinct page");
  });

  it("updated: the change goes in the subject on one line, and the evacuation is explained", async () => {
    const props = {
      ...IncidentUpdatedEmail.PreviewProps,
      change: "Restart on a healthy host\nscheduled",
    };
    const r = await renderEmail({ kind: "incident_updated", props });
    expect(r.subject).toBe(
      "[CRITICAL] web-1 — restart on a healthy host scheduled: updated: Restart on a healthy host scheduled",
    );
    expect(r.text).toContain(
      "will be stopped and started on a healthy host at 2025-10-13 21:00 UTC",
    );
    expect(r.text).toContain("not a live migration");
    expect(r.text).toContain(incidentLink);

    const done = await renderEmail({
      kind: "incident_updated",
      props: {
        ...props,
        change: undefined,
        incident: {
          ...props.incident,
          evacuation: {
            ...props.incident.evacuation,
            status: "completed" as const,
          },
        },
      },
    });
    expect(done.subject).toBe(
      "[CRITICAL] web-1 — restarted on a healthy host: incident updated",
    );
    expect(done.text).toContain("was restarted on a healthy host");
  });

  it("resolved: subject says so and the text carries the resolution time", async () => {
    const r = await renderEmail({
      kind: "incident_resolved",
      props: IncidentResolvedEmail.PreviewProps,
    });
    expect(r.subject).toMatch(/^\[RESOLVED\] web-1 — .+: incident resolved$/);
    expect(r.text).toContain("resolved at 2025-10-14 21:05 UTC");
    expect(r.text).toContain(incidentLink);
  });

  it("caps long subjects, trims a trailing slash from the console URL and escapes names", async () => {
    const r = await renderEmail({
      kind: "incident_updated",
      props: {
        ...incidentProps,
        consoleUrl: "https://poisonwatch.example.com/",
        change: "x".repeat(500),
        incident: {
          ...incidentProps.incident,
          vmName: "<script>alert(1)</script>",
        },
      },
    });
    expect(r.subject.length).toBeLessThanOrEqual(200);
    expect(r.subject.endsWith("…")).toBe(true);
    expect(r.html).not.toContain("<script>alert(1)</script>");
    expect(r.html).toContain("&lt;script&gt;");
    expect(r.text).toContain(incidentLink);
    expect(r.text).not.toContain("example.com//incidents");
  });
});

describe("other emails", () => {
  it("daily digest lists every incident with its counts and link", async () => {
    const props = DailyDigestEmail.PreviewProps;
    const r = await renderEmail({ kind: "daily_digest", props });
    expect(r.subject).toBe(
      "Poisonwatch daily digest for Acme Corp, 2025-10-13: 2 incidents",
    );
    expect(r.text).toContain(
      "2 incidents on 2025-10-13: 1 opened, 1 resolved, 1 still open.",
    );
    expect(r.text).toContain("9 new errors reported that day.");
    for (const i of props.incidents) {
      expect(r.text).toContain(`VM ${i.vmName} (${i.vmId})`);
      expect(r.text).toContain(
        `https://poisonwatch.example.com/incidents/${i.id}`,
      );
    }
    expect(r.text).toContain("9 errors on 4 distinct pages (9 that day)");
    const empty = await renderEmail({
      kind: "daily_digest",
      props: { ...props, incidents: [] },
    });
    expect(empty.text).toContain("No memory-error incidents on 2025-10-13.");
  });

  it("sign-in link carries the link and its expiry, and no notification footer", async () => {
    const r = await renderEmail({
      kind: "sign_in_link",
      props: SignInLinkEmail.PreviewProps,
    });
    expect(r.subject).toBe("Your Poisonwatch sign-in link");
    expect(r.text).toContain(SignInLinkEmail.PreviewProps.url);
    expect(r.text).toContain("expires in 15 minutes");
    expect(r.text).not.toContain("Manage notifications");
  });

  it("member invite names the tenant, the role and the link", async () => {
    const r = await renderEmail({
      kind: "member_invite",
      props: MemberInviteEmail.PreviewProps,
    });
    expect(r.subject).toBe("You are invited to join Acme Corp on Poisonwatch");
    expect(r.text).toContain("invited you to Acme Corp as member");
    expect(r.text).toContain(MemberInviteEmail.PreviewProps.inviteUrl);
  });

  it("endpoint disabled names the URL, the reason and the re-enable link", async () => {
    const props = EndpointDisabledEmail.PreviewProps;
    const r = await renderEmail({ kind: "endpoint_disabled", props });
    expect(r.subject).toBe(
      `Webhook endpoint disabled for Acme Corp: ${props.endpointUrl}`,
    );
    expect(r.text).toContain(props.endpointUrl);
    expect(r.text).toContain(`Reason: ${props.reason}`);
    expect(r.text).toContain(props.reenableUrl);
    expect(r.text).toContain("Manage notifications");
  });
});
