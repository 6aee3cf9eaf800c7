import type { IncidentView } from "@/server/incidents/incidents";
import { incidentName } from "@/emails/_components/incident-name";
import { WEBHOOK_EVENT_TYPES } from "@/db/constants";
import type { ChannelMessage, HttpChannel, RenderContext } from "../channel";
import { maskUrl } from "../channel";
import { incidentIdOf } from "../render-context";

// What a chat or paging message says, whatever the platform: Slack, Teams and PagerDuty render
// this one model. Pure: the stored payload and what loadFirstSteps read.
export type ChatMessage = {
  // the VM and what happened
  title: string;
  // one sentence: what changed
  summary: string;
  facts: { title: string; value: string }[];
  // the playbook's first step, when the message is about an incident
  step: { title: string; body: string } | null;
  link: { text: string; url: string } | null;
  severity: "critical" | "warning" | "info";
  // for paging: the incident it is about (dedup), the VM and project
  incidentId: string | null;
  vm: { id: string; name: string } | null;
  projectId: string | null;
  playbookKey: string | null;
};

type EvacuationData = {
  evacuationId: string;
  vm: { id: string; name: string; projectId: string };
  incidentId: string | null;
  scheduledFor: string;
  reason: string;
};

type LogEntryData = {
  timestamp: string;
  severity: string;
  resource: { labels: { projectId: string; vmId: string; zone: string } };
  incidentId: string | null;
  playbook: string | null;
  jsonPayload: { message?: string; mechanism?: string };
};

const EVACUATION_WORDS: Record<string, string> = {
  "vm.evacuation_scheduled": "restart on a healthy host scheduled",
  "vm.evacuation_rescheduled": "restart on a healthy host moved",
  "vm.evacuation_cancelled": "restart on a healthy host cancelled",
  "vm.evacuation_completed": "restarted on a healthy host",
};

function plural(n: number, word: string): string {
  return `${n} ${n === 1 ? word : `${word}s`}`;
}

function incidentSummary(type: string, i: IncidentView): string {
  if (type === "incident.opened")
    return `An uncorrectable hardware memory error affected VM ${i.vmName} in project ${i.projectId} (zone ${i.zone}): incident ${i.id} opened.`;
  if (type === "incident.resolved")
    return `Incident ${i.id} on VM ${i.vmName} is resolved.`;
  return `Incident ${i.id} on VM ${i.vmName} was updated: ${plural(i.errorCount, "error")} on ${plural(i.distinctPages, "distinct page")} so far.`;
}

export function chatMessageOf(
  msg: ChannelMessage,
  rc: RenderContext,
): ChatMessage {
  const incidentId = incidentIdOf(msg);
  const link = incidentId
    ? { text: "Open the incident", url: rc.incidentUrl(incidentId) }
    : { text: "Open Poisonwatch", url: rc.consoleUrl };
  const step = incidentId ? (rc.firstSteps.get(incidentId) ?? null) : null;
  if (msg.type.startsWith("incident.")) {
    const i = msg.data as IncidentView;
    const facts = [
      { title: "Severity", value: i.severity },
      { title: "Status", value: i.status },
      { title: "VM", value: `${i.vmName} (${i.vmId})` },
      { title: "Project", value: i.projectId },
      { title: "Zone", value: i.zone },
      { title: "Errors", value: String(i.errorCount) },
      { title: "Distinct pages", value: String(i.distinctPages) },
      { title: "Opened", value: i.openedAt },
    ];
    if (i.evacuation)
      facts.push({
        title: "Restart on a healthy host",
        value: `${i.evacuation.status}, ${i.evacuation.scheduledFor}`,
      });
    return {
      title: incidentName(i),
      summary: incidentSummary(msg.type, i),
      facts,
      step: msg.type === "incident.resolved" ? null : step,
      link,
      severity: i.severity === "CRITICAL" ? "critical" : "warning",
      incidentId: i.id,
      vm: { id: i.vmId, name: i.vmName },
      projectId: i.projectId,
      playbookKey: i.playbook.key,
    };
  }
  if (msg.type.startsWith("vm.evacuation_")) {
    const e = msg.data as EvacuationData;
    const what = EVACUATION_WORDS[msg.type] ?? "restart on a healthy host";
    return {
      title: `${e.vm.name} — ${what}`,
      summary: `VM ${e.vm.name} in project ${e.vm.projectId}: ${what} (${e.scheduledFor}).`,
      facts: [
        { title: "VM", value: `${e.vm.name} (${e.vm.id})` },
        { title: "Project", value: e.vm.projectId },
        { title: "Scheduled for", value: e.scheduledFor },
        { title: "Reason", value: e.reason.replace(/_/g, " ") },
        { title: "Evacuation", value: e.evacuationId },
      ],
      step,
      link,
      severity: "warning",
      incidentId: e.incidentId,
      vm: { id: e.vm.id, name: e.vm.name },
      projectId: e.vm.projectId,
      playbookKey: null,
    };
  }
  if (msg.type === "memory_error.detected") {
    const l = msg.data as LogEntryData;
    const labels = l.resource.labels;
    return {
      title: `${labels.vmId} — memory error detected`,
      summary:
        l.jsonPayload.message ??
        `A ${l.severity} memory error was reported for VM ${labels.vmId}.`,
      facts: [
        { title: "Severity", value: l.severity },
        { title: "VM", value: labels.vmId },
        { title: "Project", value: labels.projectId },
        { title: "Zone", value: labels.zone },
        { title: "Mechanism", value: l.jsonPayload.mechanism ?? "unknown" },
        { title: "At", value: l.timestamp },
      ],
      step: null,
      link,
      severity: l.severity === "CRITICAL" ? "critical" : "warning",
      incidentId: l.incidentId,
      vm: { id: labels.vmId, name: labels.vmId },
      projectId: labels.projectId,
      playbookKey: l.playbook,
    };
  }
  const test = msg.data as { endpointId?: string; message?: string } | null;
  return {
    title: "Poisonwatch test message",
    summary: test?.message ?? "This is a test message from Poisonwatch.",
    facts: [
      { title: "Channel", value: test?.endpointId ?? "" },
      { title: "Sent", value: msg.timestamp },
    ],
    step: null,
    link,
    severity: "info",
    incidentId: null,
    vm: null,
    projectId: null,
    playbookKey: null,
  };
}

// Cuts text to a platform limit, marking the cut.
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : text;
}

// A chat platform's incoming webhook (Slack, a Teams Workflow): the tenant's URL (SSRF-checked,
// answered masked: it carries a secret), every event type, and the platform's rendering of the
// one chat message as the JSON body.
export function chatChannel(
  kind: string,
  label: string,
  renderBody: (m: ChatMessage) => object,
): HttpChannel {
  return {
    kind,
    transport: "http",
    label,
    eventTypes: WEBHOOK_EVENT_TYPES,
    urlIsTenantChosen: true,
    wantsPlaybook: true,
    publicFields: (row) => ({ url: maskUrl(row.url) }),
    render: (msg, target, rc) => ({
      url: target.url,
      headers: {},
      body: JSON.stringify(renderBody(chatMessageOf(msg, rc))),
      allowPrivate: target.allowPrivate,
    }),
  };
}
