import { describe, expect, it } from "vitest";
import { utcMidnight } from "@/server/notify/digest";
import { classifyResendError } from "@/server/notify/email-send";
import { describeChanges } from "@/server/notify/enqueue";
import { isSubscribed, payloadBody } from "@/server/notify/webhook-messages";
import type { WebhookEndpointRow } from "@/server/notify/webhook-messages";

const row = {
  errorCount: 120,
  distinctPages: 3,
  severity: "CRITICAL" as const,
};

describe("describeChanges (the one line of an incident update)", () => {
  it("counts what happened since the last notification", () => {
    expect(describeChanges(["base:20:1", "errors"], row)).toBe(
      "100 new errors on 2 new distinct pages",
    );
    expect(describeChanges(["base:119:3", "errors"], row)).toBe(
      "1 new error on pages already known",
    );
    expect(describeChanges(["base:119:2", "errors"], row)).toBe(
      "1 new error on 1 new distinct page",
    );
  });
  it("names severity, evacuation and resolution", () => {
    expect(describeChanges(["base:119:3", "errors", "severity"], row)).toBe(
      "severity raised to CRITICAL; 1 new error on pages already known",
    );
    expect(describeChanges(["base:120:3", "evacuation_scheduled"], row)).toBe(
      "a restart on a healthy host is scheduled",
    );
    expect(describeChanges(["base:120:3", "evacuation_completed"], row)).toBe(
      "the VM was moved to a healthy host",
    );
    expect(describeChanges(["base:120:3", "evacuation_cancelled"], row)).toBe(
      "the scheduled restart on a healthy host was cancelled",
    );
    expect(describeChanges(["base:120:3", "resolved"], row)).toBe(
      "no new memory error for the quiet period: resolved",
    );
  });
  it("says something even without tags", () => {
    expect(describeChanges([], row)).toBe("incident updated");
  });
});

describe("classifyResendError", () => {
  it("waits for retry-after on rate limits and quotas", () => {
    expect(
      classifyResendError(
        { name: "rate_limit_exceeded", statusCode: 429 },
        { "retry-after": "7" },
      ),
    ).toEqual({ kind: "rate", retryAfterMs: 7000 });
    expect(
      classifyResendError(
        { name: "rate_limit_exceeded", statusCode: 429 },
        null,
      ),
    ).toEqual({ kind: "rate", retryAfterMs: 1000 });
    expect(
      classifyResendError(
        { name: "daily_quota_exceeded", statusCode: 429 },
        {},
      ),
    ).toEqual({ kind: "rate", retryAfterMs: 3_600_000 });
    expect(
      classifyResendError(
        { name: "application_error", statusCode: 429 },
        { "retry-after": "0" },
      ),
    ).toEqual({ kind: "rate", retryAfterMs: 1000 });
  });
  it("never retries validation and auth errors", () => {
    expect(
      classifyResendError({ name: "validation_error", statusCode: 422 }, null),
    ).toEqual({ kind: "permanent", auth: false });
    expect(
      classifyResendError(
        { name: "invalid_from_address", statusCode: 422 },
        null,
      ),
    ).toEqual({ kind: "permanent", auth: false });
    expect(
      classifyResendError(
        { name: "invalid_idempotent_request", statusCode: 409 },
        null,
      ),
    ).toEqual({ kind: "permanent", auth: false });
    expect(
      classifyResendError({ name: "invalid_api_key", statusCode: 403 }, null),
    ).toEqual({ kind: "permanent", auth: true });
    expect(
      classifyResendError({ name: "missing_api_key", statusCode: 401 }, null),
    ).toEqual({ kind: "permanent", auth: true });
    expect(
      classifyResendError(
        { name: "restricted_api_key", statusCode: 401 },
        null,
      ),
    ).toEqual({ kind: "permanent", auth: true });
  });
  it("retries server trouble, unreachable servers and concurrent idempotent requests", () => {
    expect(
      classifyResendError(
        { name: "internal_server_error", statusCode: 500 },
        null,
      ),
    ).toEqual({ kind: "transient" });
    expect(
      classifyResendError({ name: "application_error", statusCode: 503 }, null),
    ).toEqual({ kind: "transient" });
    expect(
      classifyResendError(
        { name: "application_error", statusCode: null },
        null,
      ),
    ).toEqual({ kind: "transient" });
    expect(
      classifyResendError(
        { name: "concurrent_idempotent_requests", statusCode: 409 },
        null,
      ),
    ).toEqual({ kind: "transient" });
  });
});

function endpoint(over: Partial<WebhookEndpointRow> = {}): WebhookEndpointRow {
  const at = new Date(0);
  return {
    id: "whe_1",
    kind: "webhook",
    tenantId: "t",
    url: "https://example.com",
    eventTypes: ["incident.opened"],
    projectIds: null,
    description: null,
    status: "enabled",
    disabledReason: null,
    secret: "whsec_x",
    previousSecret: null,
    previousSecretExpiresAt: null,
    failingSince: null,
    createdAt: at,
    updatedAt: at,
    ...over,
  };
}

describe("isSubscribed", () => {
  it("matches event types, project filters and status", () => {
    expect(isSubscribed(endpoint(), "incident.opened", "p1")).toBe(true);
    expect(isSubscribed(endpoint(), "incident.updated", "p1")).toBe(false);
    expect(isSubscribed(endpoint(), "memory_error.detected", "p1")).toBe(false);
    expect(
      isSubscribed(endpoint({ projectIds: ["p2"] }), "incident.opened", "p1"),
    ).toBe(false);
    expect(
      isSubscribed(
        endpoint({ projectIds: ["p1", "p2"] }),
        "incident.opened",
        "p1",
      ),
    ).toBe(true);
    expect(
      isSubscribed(endpoint({ status: "disabled" }), "incident.opened", "p1"),
    ).toBe(false);
  });
  it("always lets the test message through an enabled endpoint", () => {
    expect(
      isSubscribed(endpoint({ projectIds: ["p2"] }), "webhook.test", null),
    ).toBe(true);
    expect(
      isSubscribed(endpoint({ status: "disabled" }), "webhook.test", null),
    ).toBe(false);
  });
});

describe("payloadBody", () => {
  it("puts type, timestamp, data in the documented order whatever jsonb did", () => {
    const body = payloadBody({
      data: { id: "inc_1" },
      type: "incident.opened",
      timestamp: "2026-01-01T00:00:00.000Z",
    } as never);
    expect(body).toBe(
      '{"type":"incident.opened","timestamp":"2026-01-01T00:00:00.000Z","data":{"id":"inc_1"}}',
    );
  });
});

describe("utcMidnight", () => {
  it("is the start of the UTC day", () => {
    expect(
      utcMidnight(new Date("2026-03-05T23:59:59.999Z")).toISOString(),
    ).toBe("2026-03-05T00:00:00.000Z");
    expect(
      utcMidnight(new Date("2026-03-05T00:00:00.000Z")).toISOString(),
    ).toBe("2026-03-05T00:00:00.000Z");
    expect(
      utcMidnight(new Date("2026-03-05T01:30:00+02:00")).toISOString(),
    ).toBe("2026-03-04T00:00:00.000Z");
  });
});
