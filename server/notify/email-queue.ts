import { createHash } from "node:crypto";
import type { Db } from "@/db/client";
import { getDbHandle } from "@/db";
import { newId } from "@/db/ids";
import { emails } from "@/db/schema";
import { env } from "@/server/env";
import { sendInTx } from "@/server/jobs/boss";
import type { EmailTemplate } from "./render-email";
import { renderEmail } from "./render-email";

export type QueuedEmail = { id: string; status: "queued" | "outbox" };

// Renders and stores an email inside the caller's transaction, so every retry sends the same bytes
// under the same idempotency key. Without RESEND_API_KEY it lands in the built-in outbox.
export async function queueEmail(
  tx: Db,
  input: {
    tenantId: string | null;
    to: string[];
    template: EmailTemplate;
    incidentId?: string;
    dedupeKey?: string;
    at: Date;
  },
): Promise<QueuedEmail | null> {
  const to = [...new Set(input.to.map((e) => e.toLowerCase()))];
  if (!to.length) return null;
  const rendered = await renderEmail(input.template);
  const id = newId("eml");
  const idempotencyKey = input.dedupeKey
    ? createHash("sha256")
        .update(`${input.dedupeKey}|${to.join(",")}`)
        .digest("hex")
        .slice(0, 48)
    : id;
  const status = env().RESEND_API_KEY
    ? ("queued" as const)
    : ("outbox" as const);
  const inserted = await tx
    .insert(emails)
    .values({
      id,
      tenantId: input.tenantId,
      kind: input.template.kind,
      to,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      idempotencyKey,
      status,
      incidentId: input.incidentId ?? null,
      createdAt: input.at,
      sentAt: status === "outbox" ? input.at : null,
      nextAttemptAt: status === "queued" ? input.at : null,
    })
    .onConflictDoNothing({ target: emails.idempotencyKey })
    .returning({ id: emails.id });
  if (!inserted.length) return null;
  if (status === "queued")
    await sendInTx(await getDbHandle(), tx, "email", { emailId: id });
  return { id, status };
}
