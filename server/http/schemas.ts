import { z } from "zod";
import { STATUS_OF } from "@/server/errors";
import type { ErrorCode } from "@/server/errors";

// Response shapes for the OpenAPI document (the handlers build them; these describe them).
export const ErrorDetail = z.object({ path: z.string(), message: z.string() }).meta({ id: "ErrorDetail" });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum([...(Object.keys(STATUS_OF) as ErrorCode[]), "internal"]).describe("the status says the same; internal is the 500"),
      message: z.string(),
      details: z.array(ErrorDetail).optional().describe("for invalid_request: what was wrong, where"),
    }),
  })
  .meta({ id: "Error", description: "Every error answer: { error: { code, message, details? } }" });

export const Timestamp = z.string().describe("RFC 3339, UTC, milliseconds, Z");

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() });
}

export const TenantOut = z.object({ id: z.string(), name: z.string(), contactEmails: z.array(z.string()), createdAt: Timestamp, updatedAt: Timestamp });
export const ProjectOut = z.object({ id: z.string(), tenantId: z.string(), name: z.string(), createdAt: Timestamp, updatedAt: Timestamp });
export const HostOut = z.object({ id: z.string(), zone: z.string(), createdAt: Timestamp, updatedAt: Timestamp });
export const SecretOut = z.object({ id: z.string(), token: z.string() });
export const KeyOut = z.object({ id: z.string(), key: z.string() });
export const CredentialListOut = listOf(z.object({ id: z.string(), createdAt: Timestamp, lastUsedAt: Timestamp.nullable() }));
export const VmAdminOut = z.object({
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
  placements: z.array(z.object({ hostId: z.string().nullable(), from: Timestamp, until: Timestamp.nullable() })),
});
export const MemberOut = z.object({ id: z.string(), tenantId: z.string(), email: z.string(), role: z.string(), createdAt: Timestamp });
export const CallbackOut = z.object({ url: z.string(), secret: z.string().optional() });
