import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "@/db/client";
import { SEVERITIES } from "@/db/constants";
import { tenants } from "@/db/schema";
import { audit } from "@/server/audit";
import { now } from "@/server/clock";
import { NotFoundError } from "@/server/errors";
import { utcMidnight } from "./digest";
import type { TenantContext } from "@/server/context";

export const MAX_NOTIFICATION_EMAILS = 50;

export const NotificationSettings = z.strictObject({
  // null: the tenant's contact emails; []: nobody
  emails: z.array(z.email().max(320)).max(MAX_NOTIFICATION_EMAILS).nullable(),
  minSeverity: z.enum(SEVERITIES),
  digest: z.enum(["off", "daily"]),
});
export type NotificationSettings = z.infer<typeof NotificationSettings>;

// PUT takes the whole document or any part of it; omitted fields keep their value.
export const NotificationSettingsInput = NotificationSettings.partial();
export type NotificationSettingsInput = z.infer<
  typeof NotificationSettingsInput
>;

async function tenantRow(db: Db, tenantId: string) {
  const [t] = await db.select().from(tenants).where(eq(tenants.id, tenantId));
  if (!t) throw new NotFoundError(`No tenant ${tenantId}`);
  return t;
}

function view(t: typeof tenants.$inferSelect): NotificationSettings {
  return {
    emails: t.notifyEmails,
    minSeverity: t.minSeverity,
    digest: t.digest,
  };
}

export async function getNotificationSettings(
  ctx: TenantContext,
): Promise<NotificationSettings & { contactEmails: string[] }> {
  const t = await tenantRow(ctx.db, ctx.tenantId);
  return { ...view(t), contactEmails: t.contactEmails };
}

export async function updateNotificationSettings(
  ctx: TenantContext,
  input: NotificationSettingsInput,
): Promise<NotificationSettings> {
  return ctx.db.transaction(async (tx) => {
    const cur = await tenantRow(tx, ctx.tenantId);
    const at = now();
    const set: Partial<typeof tenants.$inferInsert> = { updatedAt: at };
    if (input.emails !== undefined)
      set.notifyEmails =
        input.emails === null
          ? null
          : [...new Set(input.emails.map((e) => e.toLowerCase()))];
    if (input.minSeverity !== undefined) set.minSeverity = input.minSeverity;
    if (input.digest !== undefined) {
      set.digest = input.digest;
      // switched on: the first digest covers the first full day from now, not the past
      if (input.digest === "daily" && cur.digest !== "daily")
        set.lastDigestAt = utcMidnight(at);
    }
    const [row] = await tx
      .update(tenants)
      .set(set)
      .where(eq(tenants.id, cur.id))
      .returning();
    await audit(tx, {
      tenantId: ctx.tenantId,
      actor: ctx.actor,
      action: "notification_settings.update",
      details: input,
    });
    return view(row!);
  });
}
