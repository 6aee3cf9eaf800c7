import { and, eq, inArray } from "drizzle-orm";
import type { Db } from "@/db/client";
import type { Severity } from "@/db/constants";
import { memberships, tenants } from "@/db/schema";
import { env } from "@/server/env";

export type TenantNotifyInfo = {
  tenantId: string;
  tenantName: string;
  // who gets incident mail: the settings' emails, or the contact emails when those are null
  recipients: string[];
  minSeverity: Severity;
  digest: "off" | "daily";
};

function uniqueLower(list: string[]): string[] {
  return [...new Set(list.map((e) => e.trim().toLowerCase()).filter(Boolean))];
}

export async function tenantNotifyInfo(
  db: Db,
  tenantIds: string[],
): Promise<Map<string, TenantNotifyInfo>> {
  const ids = [...new Set(tenantIds)];
  const out = new Map<string, TenantNotifyInfo>();
  if (!ids.length) return out;
  const rows = await db.select().from(tenants).where(inArray(tenants.id, ids));
  for (const t of rows) {
    out.set(t.id, {
      tenantId: t.id,
      tenantName: t.name,
      recipients: uniqueLower(t.notifyEmails ?? t.contactEmails),
      minSeverity: t.minSeverity,
      digest: t.digest,
    });
  }
  return out;
}

// The tenant's owners, or its contact emails when it has no owner yet.
export async function ownerEmails(
  db: Db,
  tenantId: string,
): Promise<{ tenantName: string; emails: string[] }> {
  const [t] = await db
    .select({ name: tenants.name, contactEmails: tenants.contactEmails })
    .from(tenants)
    .where(eq(tenants.id, tenantId));
  const owners = await db
    .select({ email: memberships.email })
    .from(memberships)
    .where(
      and(eq(memberships.tenantId, tenantId), eq(memberships.role, "owner")),
    );
  const emails = uniqueLower(
    owners.length ? owners.map((o) => o.email) : (t?.contactEmails ?? []),
  );
  return { tenantName: t?.name ?? tenantId, emails };
}

export function consoleUrls() {
  const base = env().publicUrl;
  return {
    consoleUrl: base,
    manageUrl: `${base}/settings/notifications`,
    webhookUrl: (id: string) => `${base}/settings/webhooks/${id}`,
    channelUrl: (kind: string) => `${base}/settings/channels/${kind}`,
  };
}
