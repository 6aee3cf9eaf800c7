import { Heading, Text } from "@react-email/components";
import { CopyLink, CtaButton, Layout } from "./_components/layout";
import {
  IncidentFacts,
  formatUtc,
  incidentUrl,
  notificationReason,
  plural,
  previewIncidentProps,
} from "./_components/incident";
import type { IncidentEmailProps } from "./_components/incident";
import { styles } from "./_components/theme";

export type IncidentResolvedEmailProps = IncidentEmailProps;

export default function IncidentResolvedEmail({
  tenantName,
  consoleUrl,
  incident,
  change,
  manageUrl,
}: IncidentResolvedEmailProps) {
  const url = incidentUrl(consoleUrl, incident.id);
  const at = incident.resolvedAt ? ` at ${formatUtc(incident.resolvedAt)}` : "";
  return (
    <Layout
      preview={`Incident ${incident.id} on VM ${incident.vmName} is resolved`}
      reason={notificationReason(tenantName)}
      manageUrl={manageUrl}
    >
      <Heading
        as="h1"
        style={styles.h1}
      >{`Resolved: memory errors on VM ${incident.vmName}`}</Heading>
      <Text style={styles.paragraph}>
        {`Incident ${incident.id} was resolved${at}: VM ${incident.vmName} has had no new memory error for the ` +
          "quiet period, and any restart on a healthy host has completed. In total it counted " +
          `${plural(incident.errorCount, "error")} on ${plural(incident.distinctPages, "distinct page")}.`}
      </Text>
      {change ? <Text style={styles.paragraph}>{change}</Text> : null}
      <IncidentFacts incident={incident} />
      <Text style={styles.paragraph}>
        If a process was stopped or the VM restarted during the incident, make
        sure the data it wrote was checked, as the playbook describes.
      </Text>
      <CtaButton href={url}>Open the incident</CtaButton>
      <CopyLink href={url} />
    </Layout>
  );
}

IncidentResolvedEmail.PreviewProps = {
  ...previewIncidentProps,
  incident: {
    ...previewIncidentProps.incident,
    status: "resolved",
    updatedAt: "2025-10-14T21:05:00Z",
    resolvedAt: "2025-10-14T21:05:00Z",
    evacuation: {
      id: "evac_01JAB3K9ZQ8R7S6T5V4W3X2Y1Z",
      status: "completed",
      scheduledFor: "2025-10-13T21:00:00Z",
    },
  },
} satisfies IncidentResolvedEmailProps;
