import { z } from "zod";
import { STATUS_OF } from "@/server/errors";
import type { ErrorCode } from "@/server/errors";
import { HOST_STATES } from "@/server/policy/policy";
import { Policy } from "@/server/policy/thresholds";

// Response shapes for the OpenAPI document (the handlers build them; these describe them).
export const ErrorDetailOut = z
  .object({ path: z.string(), message: z.string() })
  .meta({ id: "ErrorDetail" });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z
        .enum([...(Object.keys(STATUS_OF) as ErrorCode[]), "internal"])
        .describe("the status says the same; internal is the 500"),
      message: z.string(),
      details: z
        .array(ErrorDetailOut)
        .optional()
        .describe("for invalid_request: what was wrong, where"),
    }),
  })
  .meta({
    id: "Error",
    description: "Every error answer: { error: { code, message, details? } }",
  });

export const Timestamp = z.string().describe("RFC 3339, UTC, milliseconds, Z");

// A page of a list: { data, nextCursor } (named <Item>List in the document).
export function listOf<T extends z.ZodType>(item: T, id?: string) {
  const list = z.object({
    data: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .describe("pass as cursor for the next page; null on the last page"),
  });
  return id ? list.meta({ id }) : list;
}

// Operator API: inventory and credentials.
export const TenantOut = z
  .object({
    id: z.string(),
    name: z.string(),
    contactEmails: z.array(z.string()),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "Tenant" });
export const ProjectOut = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    name: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "Project" });
export const HostOut = z
  .object({
    id: z.string(),
    zone: z.string(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "Host" });
export const SecretOut = z
  .object({
    id: z.string(),
    token: z.string().describe("pwh_…; answered only now, stored hashed"),
  })
  .meta({ id: "NewHostToken" });
export const KeyOut = z
  .object({
    id: z.string(),
    key: z.string().describe("pwk_…; answered only now, stored hashed"),
  })
  .meta({ id: "NewApiKey" });
export const HostTokenListOut = listOf(
  z
    .object({
      id: z.string(),
      createdAt: Timestamp,
      lastUsedAt: Timestamp.nullable(),
    })
    .meta({ id: "HostToken", description: "never the secret" }),
  "HostTokenList",
);
export const ApiKeyListOut = listOf(
  z
    .object({
      id: z.string(),
      name: z
        .string()
        .nullable()
        .describe(
          "the name an owner gave the key in the console; null for keys made through this API",
        ),
      createdAt: Timestamp,
      lastUsedAt: Timestamp.nullable(),
    })
    .meta({ id: "ApiKey", description: "never the secret" }),
  "ApiKeyList",
);
export const VmAdminOut = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    projectId: z.string(),
    name: z.string(),
    zone: z.string(),
    hostId: z.string().nullable(),
    state: z.enum(["running", "stopped"]),
    placedAt: Timestamp,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    placements: z.array(
      z
        .object({
          hostId: z.string().nullable(),
          from: Timestamp,
          until: Timestamp.nullable(),
        })
        .meta({
          id: "Placement",
          description:
            "where the VM ran (hostId null: stopped) from `from` until `until` (null: still)",
        }),
    ),
  })
  .meta({
    id: "InventoryVm",
    description: "A VM as the inventory knows it, with its placement history",
  });
export const MemberOut = z
  .object({
    id: z.string(),
    tenantId: z.string(),
    email: z.string(),
    role: z.enum(["owner", "member", "viewer"]),
    createdAt: Timestamp,
  })
  .meta({ id: "Member" });
export const CallbackOut = z
  .object({
    url: z.string(),
    secret: z
      .string()
      .optional()
      .describe("whsec_…; answered when first made and on rotateSecret"),
  })
  .meta({ id: "Callback" });

// Tenant API: log entries, incidents, VMs.
const Esr = z
  .looseObject({
    value: z.string(),
    ec: z.string(),
    ecName: z.string(),
    il: z.number().int(),
    fsc: z.string().nullable(),
    fscName: z.string().nullable(),
    ea: z.number().int().nullable(),
    fnv: z.number().int().nullable(),
    s1ptw: z.number().int().nullable(),
    wnr: z.number().int().nullable(),
    cm: z.number().int().nullable(),
    set: z.number().int().nullable(),
    errorState: z.string().nullable(),
  })
  .meta({
    id: "Esr",
    description: "arm64 ESR_ELx decoded (spec.md's log entry)",
  });

export const LogEntryOut = z
  .object({
    insertId: z.string().describe("log_…"),
    timestamp: Timestamp.describe("the event's time"),
    receiveTimestamp: Timestamp,
    severity: z
      .enum(["CRITICAL", "WARNING"])
      .describe("CRITICAL: the error was consumed; WARNING: it was not"),
    logName: z.string().describe("projects/{projectId}/logs/memory_errors"),
    resource: z.object({
      type: z.literal("vm_instance"),
      labels: z.object({
        projectId: z.string(),
        vmId: z.string(),
        zone: z.string(),
      }),
    }),
    incidentId: z.string().nullable(),
    playbook: z.string().describe("the playbook's key"),
    jsonPayload: z
      .looseObject({
        message: z.string(),
        arch: z.enum(["arm64", "x86_64"]),
        vcpu: z.number().int().nullable().optional(),
        guestMode: z.enum(["user", "kernel", "unknown"]).optional(),
        actions: z.array(z.string()).optional(),
        eventId: z
          .string()
          .describe("evt_…, the service's id of the stored event"),
        mechanism: z.string(),
        gpa: z.string().optional(),
        gva: z.string().optional(),
        pageSize: z.number().int().optional(),
        esr: Esr.nullable().optional(),
      })
      .describe(
        "what the VMM reported, decoded; fields appear where the event made them valid",
      ),
  })
  .meta({
    id: "LogEntry",
    description: "A critical log entry in the shape of a cloud logging entry",
  });

const PlaybookRef = z.object({
  key: z.string(),
  version: z.number().int(),
  title: z.string(),
});
const EvacuationStatus = z.enum([
  "scheduled",
  "in_progress",
  "completed",
  "cancelled",
]);
const EvacuationBrief = z
  .object({
    id: z.string(),
    status: EvacuationStatus,
    scheduledFor: Timestamp,
    deadline: Timestamp.describe("the restart happens no later than this"),
    requestedAt: Timestamp,
  })
  .meta({
    id: "EvacuationBrief",
    description: "An evacuation as a tenant sees it on an incident or a VM",
  });

export const IncidentOut = z
  .object({
    id: z.string().describe("inc_…"),
    status: z.enum(["open", "evacuating", "resolved"]),
    severity: z.enum(["CRITICAL", "WARNING"]),
    projectId: z.string(),
    vmId: z.string(),
    vmName: z.string(),
    zone: z.string(),
    openedAt: Timestamp,
    updatedAt: Timestamp,
    resolvedAt: Timestamp.nullable(),
    errorCount: z.number().int(),
    distinctPages: z.number().int(),
    playbook: PlaybookRef,
    evacuation: EvacuationBrief.nullable().describe(
      "the incident's latest evacuation",
    ),
  })
  .meta({ id: "Incident" });

export const IncidentDetailOut = IncidentOut.extend({
  firstErrorAt: Timestamp.describe(
    "the earliest error's own time (an event time; openedAt is when the platform opened the incident, after the error arrived)",
  ),
  lastErrorAt: Timestamp.describe("the latest error's own time"),
  playbook: PlaybookRef.extend({
    steps: z.array(
      z.object({ title: z.string(), body: z.string() }).meta({
        id: "PlaybookStep",
        description:
          "one step of the playbook, filled with the incident's facts",
      }),
    ),
  }),
  timeline: z.array(
    z
      .object({
        at: Timestamp,
        kind: z.string(),
        summary: z.string(),
        logEntryId: z.string().optional(),
      })
      .meta({ id: "TimelineEntry" }),
  ),
}).meta({
  id: "IncidentDetail",
  description:
    "An incident with its timeline and its playbook filled with the incident's facts",
});

export const VmOut = z
  .object({
    id: z.string(),
    name: z.string(),
    projectId: z.string(),
    zone: z.string(),
    state: z.enum(["running", "stopped"]),
    memoryHealth: z
      .object({
        distinctPages: z
          .number()
          .int()
          .describe(
            "distinct poisoned pages within the window (repeats once; an unlocated error is a page)",
          ),
        threshold: z.number().int().describe("the policy's vmPages"),
        windowSeconds: z.number().int(),
        evacuation: EvacuationBrief.extend({
          completedAt: Timestamp.nullable(),
          cancelledAt: Timestamp.nullable(),
        })
          .nullable()
          .describe(
            "the active evacuation, or the latest that ended within the window",
          ),
      })
      .meta({ id: "MemoryHealth" }),
  })
  .meta({
    id: "Vm",
    description: "A tenant's VM with its memory health against the policy",
  });

// Operator API: policy, host health, evacuations, uncorrelated events.
export const PolicyOut = Policy.meta({
  id: "Policy",
  description: "The health policy",
});

const HostState = z.enum(HOST_STATES);
const EvacuationReason = z.enum([
  "distinct_pages",
  "guest_kernel",
  "host_evacuate",
  "operator",
]);

export const HostHealthOut = z
  .object({
    hostId: z.string(),
    state: HostState,
    distinctPages: z
      .number()
      .int()
      .describe(
        "distinct (VM, page) pairs of correlated events within the window; an unlocated error is a page of its own",
      ),
    affectedVmIds: z.array(z.string()),
    windowSeconds: z.number().int(),
  })
  .meta({ id: "HostHealth" });

export const FleetHostOut = z
  .object({
    id: z.string(),
    zone: z.string(),
    state: HostState,
    distinctPages: z.number().int(),
    pressure: z
      .number()
      .describe("distinctPages / hostEvacuatePages, at most 1"),
    runningVms: z.number().int(),
    activeEvacuations: z.number().int(),
    lastErrorAt: Timestamp.nullable(),
  })
  .meta({
    id: "FleetHost",
    description: "A host of the fleet with its health now",
  });

export const EvacuationOut = z
  .object({
    id: z.string().describe("evac_…"),
    vmId: z.string(),
    tenantId: z.string(),
    projectId: z.string(),
    incidentId: z.string().nullable(),
    hostId: z
      .string()
      .nullable()
      .describe("the host the VM was on when the evacuation was requested"),
    reason: EvacuationReason,
    distinctPages: z.number().int(),
    status: EvacuationStatus,
    requestedBy: z.enum(["policy", "operator"]),
    requestedAt: Timestamp,
    scheduledFor: Timestamp,
    deadline: Timestamp.describe(
      "no later than this: requestedAt + policy.maxDeferSeconds",
    ),
    startedAt: Timestamp.nullable(),
    completedAt: Timestamp.nullable(),
    cancelledAt: Timestamp.nullable(),
  })
  .meta({ id: "Evacuation" });

const HostStateCounts = z.object({
  healthy: z.number().int(),
  degraded: z.number().int(),
  evacuate: z.number().int(),
});
export const PolicyPreviewOut = z
  .object({
    at: Timestamp,
    current: PolicyOut,
    candidate: PolicyOut,
    hosts: z.object({ current: HostStateCounts, candidate: HostStateCounts }),
    hostChanges: z.object({
      total: z.number().int(),
      items: z
        .array(
          z.object({
            hostId: z.string(),
            from: HostState,
            to: HostState,
            distinctPages: z.number().int(),
          }),
        )
        .describe("at most 200"),
    }),
    wouldEvacuate: z.object({
      total: z.number().int(),
      items: z
        .array(
          z.object({
            vmId: z.string(),
            reason: EvacuationReason,
            distinctPages: z.number().int(),
            tenantId: z.string(),
            projectId: z.string(),
            hostId: z.string().nullable(),
            alsoUnderCurrent: z
              .boolean()
              .describe(
                "the current policy would evacuate it too at the VM's next evaluation",
              ),
          }),
        )
        .describe("at most 200"),
    }),
    noLongerEvacuated: z.number().int(),
  })
  .meta({
    id: "PolicyPreview",
    description:
      "What a candidate policy would do to the fleet now, beside the current one",
  });

export const UncorrelatedEventOut = z
  .object({
    id: z.string().describe("evt_…"),
    receivedAt: Timestamp,
    hostId: z.string(),
    vmId: z.string(),
    reason: z.enum(["unknown_vm", "host_mismatch"]),
    event: z
      .record(z.string(), z.unknown())
      .describe("the CloudEvent as received"),
  })
  .meta({ id: "UncorrelatedEvent" });
