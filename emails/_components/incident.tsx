import { Section, Text } from "@react-email/components";
import type {
  EvacuationStatus,
  IncidentStatus,
  Severity,
} from "@/db/constants";
import { severityColor, styles } from "./theme";

// The incident list shape of spec.md, with times as ISO strings so stored props survive JSON.
export type IncidentEmailIncident = {
  id: string;
  status: IncidentStatus;
  severity: Severity;
  vmId: string;
  vmName: string;
  projectId: string;
  zone: string;
  openedAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  errorCount: number;
  distinctPages: number;
  playbook: { key: string; version: number; title: string };
  evacuation: {
    id: string;
    status: EvacuationStatus;
    scheduledFor: string;
  } | null;
};

export type IncidentEmailProps = {
  tenantName: string;
  consoleUrl: string;
  incident: IncidentEmailIncident;
  /** one line: what changed */
  change?: string;
  manageUrl: string;
};

export function incidentUrl(consoleUrl: string, id: string): string {
  return `${consoleUrl.replace(/\/+$/, "")}/incidents/${encodeURIComponent(id)}`;
}

export function formatUtc(value: string): string {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return `${d.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

const STATUS_LABEL: Record<IncidentStatus, string> = {
  open: "Open",
  evacuating: "Evacuating",
  resolved: "Resolved",
};

const EVACUATION_LABEL: Record<EvacuationStatus, string> = {
  scheduled: "scheduled for",
  in_progress: "in progress, scheduled for",
  completed: "completed, was scheduled for",
  cancelled: "cancelled, was scheduled for",
};

export function evacuationLine(
  evac: NonNullable<IncidentEmailIncident["evacuation"]>,
): string {
  return `Restart on a healthy host ${EVACUATION_LABEL[evac.status]} ${formatUtc(evac.scheduledFor)}`;
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <Text style={styles.fact}>
      <span style={styles.factLabel}>{`${label}: `}</span>
      {value}
    </Text>
  );
}

export function IncidentFacts({
  incident,
}: {
  incident: IncidentEmailIncident;
}) {
  return (
    <Section style={styles.card}>
      <Text
        style={{
          ...styles.paragraph,
          color: severityColor(incident.severity),
          fontWeight: 700,
          margin: "4px 0",
        }}
      >
        {`${incident.severity} · ${STATUS_LABEL[incident.status]}`}
      </Text>
      <Fact label="VM" value={`${incident.vmName} (${incident.vmId})`} />
      <Fact label="Project" value={incident.projectId} />
      <Fact label="Zone" value={incident.zone} />
      <Fact label="Incident" value={incident.id} />
      <Fact label="Opened" value={formatUtc(incident.openedAt)} />
      <Fact label="Updated" value={formatUtc(incident.updatedAt)} />
      {incident.resolvedAt ? (
        <Fact label="Resolved" value={formatUtc(incident.resolvedAt)} />
      ) : null}
      <Fact
        label="Errors"
        value={`${plural(incident.errorCount, "error")} on ${plural(incident.distinctPages, "distinct page")}`}
      />
      <Fact
        label="Playbook"
        value={`${incident.playbook.title} (v${incident.playbook.version})`}
      />
      {incident.evacuation ? (
        <Fact label="Evacuation" value={evacuationLine(incident.evacuation)} />
      ) : null}
    </Section>
  );
}

export function notificationReason(tenantName: string): string {
  return `You receive this email because you are a notification recipient for ${tenantName}.`;
}

export const previewIncidentProps = {
  tenantName: "Acme Corp",
  consoleUrl: "https://poisonwatch.example.com",
  manageUrl: "https://poisonwatch.example.com/settings/notifications",
  incident: {
    id: "inc_01JAB3K4M5N6P7Q8R9S0T1V2W3",
    status: "open",
    severity: "CRITICAL",
    vmId: "vm-7f3a",
    vmName: "web-1",
    projectId: "prj-shop",
    zone: "eu-west-1a",
    openedAt: "2025-10-13T18:59:03Z",
    updatedAt: "2025-10-13T19:04:10Z",
    resolvedAt: null,
    errorCount: 3,
    distinctPages: 2,
    playbook: {
      key: "repeated-memory-errors",
      version: 1,
      title: "Repeated memory errors on your VM",
    },
    evacuation: null,
  },
} satisfies IncidentEmailProps;
