import { Heading, Text } from "@react-email/components";
import { CopyLink, CtaButton, Layout } from "./_components/layout";
import {
  IncidentFacts,
  incidentUrl,
  notificationReason,
  previewIncidentProps,
} from "./_components/incident";
import type { IncidentEmailProps } from "./_components/incident";
import { incidentName } from "./_components/incident-name";
import { styles } from "./_components/theme";

export type IncidentOpenedEmailProps = IncidentEmailProps;

export default function IncidentOpenedEmail({
  tenantName,
  consoleUrl,
  incident,
  change,
  manageUrl,
}: IncidentOpenedEmailProps) {
  const url = incidentUrl(consoleUrl, incident.id);
  return (
    <Layout
      preview={`${incident.severity}: memory error on VM ${incident.vmName}, incident ${incident.id} opened`}
      reason={notificationReason(tenantName)}
      manageUrl={manageUrl}
    >
      <Heading as="h1" style={styles.h1}>
        {incidentName(incident)}
      </Heading>
      <Text style={styles.paragraph}>
        {`An uncorrectable hardware memory error affected VM ${incident.vmName} in project ${incident.projectId} ` +
          `(zone ${incident.zone}). We opened incident ${incident.id}.`}
      </Text>
      {change ? <Text style={styles.paragraph}>{change}</Text> : null}
      <IncidentFacts incident={incident} />
      <Text style={styles.paragraph}>
        {`What to do: follow the playbook "${incident.playbook.title}" in the console. It is filled in for this VM, ` +
          "with the commands that find the affected process and the steps to move the VM to healthy hardware."}
      </Text>
      <CtaButton href={url}>Open the incident</CtaButton>
      <CopyLink href={url} />
    </Layout>
  );
}

IncidentOpenedEmail.PreviewProps = {
  ...previewIncidentProps,
  incident: {
    ...previewIncidentProps.incident,
    errorCount: 1,
    distinctPages: 1,
    playbook: {
      key: "user-process-memory-error",
      version: 1,
      title: "A process on your VM was stopped by a memory error",
    },
  },
} satisfies IncidentOpenedEmailProps;
