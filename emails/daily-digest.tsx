import { Heading, Link, Section, Text } from "@react-email/components";
import type { IncidentStatus, Severity } from "@/db/constants";
import { CtaButton, Layout } from "./_components/layout";
import {
  formatUtc,
  incidentUrl,
  notificationReason,
  plural,
} from "./_components/incident";
import { severityColor, styles } from "./_components/theme";

export type DigestIncident = {
  id: string;
  status: IncidentStatus;
  severity: Severity;
  vmId: string;
  vmName: string;
  projectId: string;
  zone: string;
  openedAt: string;
  errorCount: number;
  distinctPages: number;
  /** errors reported during the digest's day, when known */
  newErrors?: number;
};

export type DailyDigestEmailProps = {
  tenantName: string;
  consoleUrl: string;
  manageUrl: string;
  /** the UTC day covered, YYYY-MM-DD */
  date: string;
  incidents: DigestIncident[];
};

function utcDay(value: string): string {
  const d = new Date(value);
  return Number.isNaN(d.getTime())
    ? value.slice(0, 10)
    : d.toISOString().slice(0, 10);
}

export function digestCounts(date: string, incidents: DigestIncident[]) {
  return {
    total: incidents.length,
    opened: incidents.filter((i) => utcDay(i.openedAt) === date).length,
    resolved: incidents.filter((i) => i.status === "resolved").length,
    stillOpen: incidents.filter((i) => i.status !== "resolved").length,
    errors: incidents.reduce((sum, i) => sum + (i.newErrors ?? 0), 0),
  };
}

export default function DailyDigestEmail({
  tenantName,
  consoleUrl,
  manageUrl,
  date,
  incidents,
}: DailyDigestEmailProps) {
  const c = digestCounts(date, incidents);
  const summary = incidents.length
    ? `${plural(c.total, "incident")} on ${date}: ${c.opened} opened, ${c.resolved} resolved, ${c.stillOpen} still open.`
    : `No memory-error incidents on ${date}.`;
  return (
    <Layout
      preview={`${tenantName}: ${summary}`}
      reason={notificationReason(tenantName)}
      manageUrl={manageUrl}
    >
      <Heading
        as="h1"
        style={styles.h1}
      >{`Daily digest for ${tenantName}`}</Heading>
      <Text style={styles.paragraph}>{summary}</Text>
      {c.errors > 0 ? (
        <Text
          style={styles.paragraph}
        >{`${plural(c.errors, "new error")} reported that day.`}</Text>
      ) : null}
      {incidents.map((i) => (
        <Section key={i.id} style={styles.card}>
          <Text
            style={{ ...styles.paragraph, margin: "2px 0", fontWeight: 600 }}
          >
            <Link href={incidentUrl(consoleUrl, i.id)} style={styles.link}>
              {`VM ${i.vmName} (${i.vmId})`}
            </Link>
          </Text>
          <Text style={{ ...styles.muted, margin: "2px 0" }}>
            <span style={{ color: severityColor(i.severity), fontWeight: 700 }}>
              {i.severity}
            </span>
            {` · ${i.status} · project ${i.projectId} · zone ${i.zone} · incident ${i.id}`}
          </Text>
          <Text style={{ ...styles.paragraph, margin: "2px 0" }}>
            {`${plural(i.errorCount, "error")} on ${plural(i.distinctPages, "distinct page")}` +
              (i.newErrors !== undefined ? ` (${i.newErrors} that day)` : "") +
              ` · opened ${formatUtc(i.openedAt)}`}
          </Text>
        </Section>
      ))}
      <CtaButton href={`${consoleUrl.replace(/\/+$/, "")}/incidents`}>
        Open the incident list
      </CtaButton>
    </Layout>
  );
}

DailyDigestEmail.PreviewProps = {
  tenantName: "Acme Corp",
  consoleUrl: "https://poisonwatch.example.com",
  manageUrl: "https://poisonwatch.example.com/settings/notifications",
  date: "2025-10-13",
  incidents: [
    {
      id: "inc_01JAB3K4M5N6P7Q8R9S0T1V2W3",
      status: "evacuating",
      severity: "CRITICAL",
      vmId: "vm-7f3a",
      vmName: "web-1",
      projectId: "prj-shop",
      zone: "eu-west-1a",
      openedAt: "2025-10-13T18:59:03Z",
      errorCount: 9,
      distinctPages: 4,
      newErrors: 9,
    },
    {
      id: "inc_01JAB2Z9Y8X7W6V5T4S3R2Q1P0",
      status: "resolved",
      severity: "WARNING",
      vmId: "vm-0c11",
      vmName: "batch-7",
      projectId: "prj-data",
      zone: "eu-west-1b",
      openedAt: "2025-10-12T03:10:00Z",
      errorCount: 1,
      distinctPages: 1,
      newErrors: 0,
    },
  ],
} satisfies DailyDigestEmailProps;
