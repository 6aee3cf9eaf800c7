// The request example of every operation, as the OpenAPI document shows it (parameters' and
// bodies' `example`). Together they tell one story that works when played in order against an
// empty database at EXAMPLE_NOW: tests/integration/openapi-examples.test.ts sends them all and
// checks every answer against the document. Ids the service makes (evt_, inc_, whe_…) cannot be
// known in advance: the test puts in the ones it was given.

export const EXAMPLE_NOW = "2026-03-02T12:00:00.000Z";

export type OperationExample = {
  params?: Record<string, string>;
  query?: Record<string, string | number>;
  body?: unknown;
  // the media type of the body when the operation takes several
  contentType?: string;
};

// One value per path parameter name, unless an operation says otherwise.
export const PARAM_EXAMPLES: Record<string, string> = {
  tenantId: "acme",
  projectId: "acme-web",
  hostId: "host-a1",
  vmId: "acme-web-1",
  tokenId: "htk_01JNB2C3D4E5F6G7H8J9K0M1N2",
  keyId: "key_01JNB2C3D4E5F6G7H8J9K0M1N3",
  incidentId: "inc_01JNB2C3D4E5F6G7H8J9K0M1N4",
  evacuationId: "evac_01JNB2C3D4E5F6G7H8J9K0M1N5",
  id: "whe_01JNB2C3D4E5F6G7H8J9K0M1N6",
  deliveryId: "dlv_01JNB2C3D4E5F6G7H8J9K0M1N7",
  feedTokenId: "fdt_01JNB2C3D4E5F6G7H8J9K0M1N8",
  channelId: "chn_01JNB2C3D4E5F6G7H8J9K0M1N9",
};

// Path parameters whose value the service makes.
export const MADE_BY_THE_SERVICE = [
  "tokenId",
  "keyId",
  "incidentId",
  "evacuationId",
  "id",
  "deliveryId",
  "feedTokenId",
  "channelId",
];

const event = (id: string, gpa: string, time: string) => ({
  specversion: "1.0",
  id,
  source: "/hosts/host-a1",
  type: "vmm.memory_error.v1",
  time,
  subject: "acme-web-1",
  datacontenttype: "application/json",
  data: {
    vmId: "acme-web-1",
    hostId: "host-a1",
    vcpu: 3,
    arch: "arm64",
    mechanism: "kvm_exit_arm_sea",
    guestMode: "user",
    actions: ["sea_injected", "page_unmapped"],
    armSea: {
      flags: 1,
      esr: "0x0000000092000010",
      gva: "0x0000ffff9a2b3c40",
      gpa,
    },
  },
});

export const OPERATION_EXAMPLES: Record<string, OperationExample> = {
  putTenant: {
    body: { name: "Acme Corp", contactEmails: ["ops@acme.example"] },
  },
  putProject: { body: { tenantId: "acme", name: "Web shop" } },
  putHost: { body: { zone: "eu-central-1a" } },
  putVm: {
    body: {
      projectId: "acme-web",
      name: "web-1",
      zone: "eu-central-1a",
      hostId: "host-a1",
      placedAt: "2026-02-01T08:00:00Z",
    },
  },
  addMember: { body: { email: "oncall@acme.example", role: "member" } },
  putPolicy: { body: { vmPages: 2, windowSeconds: 86400 } },
  putCallback: {
    body: { url: "https://control-plane.example.com/poisonwatch/evacuations" },
  },
  previewPolicy: { body: { vmPages: 1, hostEvacuatePages: 8 } },
  ingestEvents: {
    contentType: "application/cloudevents-batch+json",
    body: [
      event(
        "a1-20260302-115800-0001",
        "0x00000001234f8000",
        "2026-03-02T11:58:00.000Z",
      ),
      event(
        "a1-20260302-115900-0002",
        "0x0000000123500000",
        "2026-03-02T11:59:00.000Z",
      ),
    ],
  },
  listUncorrelatedEvents: { query: { reason: "unknown_vm", limit: 20 } },
  listHosts: { query: { state: "healthy", limit: 100 } },
  evacuateVm: {
    params: { vmId: "acme-web-2" },
    body: { scheduledFor: "2026-03-02T13:00:00Z" },
  },
  listEvacuations: { query: { tenantId: "acme", limit: 20 } },
  listLogEntries: {
    query: {
      vmId: "acme-web-1",
      severity: "CRITICAL",
      since: "2026-03-01T00:00:00Z",
      limit: 20,
    },
  },
  exportLogEntries: {
    query: { vmId: "acme-web-1", q: "uncorrectable", format: "csv" },
  },
  listIncidents: { query: { projectId: "acme-web", limit: 20 } },
  listVms: { query: { limit: 20 } },
  deferEvacuation: { body: { until: "2026-03-02T20:00:00Z" } },
  putMaintenanceWindow: {
    body: {
      days: ["sat", "sun"],
      start: "02:00",
      durationMinutes: 120,
      timeZone: "Europe/Berlin",
    },
  },
  listWebhooks: { query: { limit: 20 } },
  createWebhook: {
    body: {
      url: "https://hooks.acme.example/poisonwatch",
      eventTypes: ["incident.opened", "incident.resolved"],
      description: "on-call pager",
    },
  },
  updateWebhook: {
    body: {
      eventTypes: ["incident.opened", "incident.updated", "incident.resolved"],
      description: "on-call pager (all changes)",
    },
  },
  listWebhookDeliveries: { query: { status: "pending", limit: 20 } },
  recoverWebhookMessages: { body: { since: "2026-03-01T00:00:00Z" } },
  listChannels: { query: { kind: "slack", limit: 20 } },
  createChannel: {
    body: {
      kind: "slack",
      url: "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX",
      eventTypes: ["incident.opened", "incident.updated", "incident.resolved"],
      description: "#oncall",
    },
  },
  updateChannel: {
    body: {
      eventTypes: [
        "incident.opened",
        "incident.updated",
        "incident.resolved",
        "vm.evacuation_scheduled",
      ],
      description: "#oncall (with restarts)",
    },
  },
  listChannelDeliveries: { query: { limit: 20 } },
  putNotificationSettings: {
    body: {
      emails: ["oncall@acme.example"],
      minSeverity: "CRITICAL",
      digest: "daily",
    },
  },
  deleteVm: { params: { vmId: "acme-web-3" } },
};
