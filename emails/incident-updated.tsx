import { Heading, Text } from "@react-email/components";
import { incidentName } from "./_components/incident-name";
import { CopyLink, CtaButton, Layout } from "./_components/layout";
import {
  IncidentFacts,
  formatUtc,
  incidentUrl,
  notificationReason,
  plural,
  previewIncidentProps,
} from "./_components/incident";
import type {
  IncidentEmailIncident,
  IncidentEmailProps,
} from "./_components/incident";
import { styles } from "./_components/theme";

export type IncidentUpdatedEmailProps = IncidentEmailProps;

function evacuationText(incident: IncidentEmailIncident): string | null {
  const evac = incident.evacuation;
  if (!evac) return null;
  const when = formatUtc(evac.scheduledFor);
  switch (evac.status) {
    case "scheduled":
      return (
        `VM ${incident.vmName} will be stopped and started on a healthy host at ${when}. This is a restart, not a ` +
        "live migration: anything held only in memory is lost. The console explains how to prepare."
      );
    case "in_progress":
      return `VM ${incident.vmName} is being restarted on a healthy host now (scheduled for ${when}).`;
    case "completed":
      return (
        `VM ${incident.vmName} was restarted on a healthy host. The incident stays open until the VM has had no new ` +
        "memory error for the quiet period."
      );
    case "cancelled":
      return `The restart of VM ${incident.vmName} on a healthy host, scheduled for ${when}, was cancelled.`;
  }
}

export default function IncidentUpdatedEmail({
  tenantName,
  consoleUrl,
  incident,
  change,
  manageUrl,
}: IncidentUpdatedEmailProps) {
  const url = incidentUrl(consoleUrl, incident.id);
  const evac = evacuationText(incident);
  return (
    <Layout
      preview={
        change ?? `Incident ${incident.id} on VM ${incident.vmName} was updated`
      }
      reason={notificationReason(tenantName)}
      manageUrl={manageUrl}
    >
      <Heading as="h1" style={styles.h1}>
        {incidentName(incident)}
      </Heading>
      <Text style={styles.paragraph}>
        {change ??
          `Incident ${incident.id} now counts ${plural(incident.errorCount, "error")} on ` +
            `${plural(incident.distinctPages, "distinct page")}.`}
      </Text>
      {evac ? <Text style={styles.paragraph}>{evac}</Text> : null}
      <IncidentFacts incident={incident} />
      <Text style={styles.paragraph}>
        {`Current playbook: "${incident.playbook.title}". The console has its steps, filled in for this VM.`}
      </Text>
      <CtaButton href={url}>Open the incident</CtaButton>
      <CopyLink href={url} />
    </Layout>
  );
}

IncidentUpdatedEmail.PreviewProps = {
  ...previewIncidentProps,
  incident: {
    ...previewIncidentProps.incident,
    status: "evacuating",
    errorCount: 9,
    distinctPages: 4,
    playbook: {
      key: "evacuation-scheduled",
      version: 1,
      title: "Your VM will be restarted on a healthy host",
    },
    evacuation: {
      id: "evac_01JAB3K9ZQ8R7S6T5V4W3X2Y1Z",
      status: "scheduled",
      scheduledFor: "2025-10-13T21:00:00Z",
    },
  },
  change:
    "4 distinct pages reached the threshold: a restart on a healthy host is scheduled",
} satisfies IncidentUpdatedEmailProps;
