import type { Db } from "@/db/client";
import { iso } from "@/server/core/time";
import { queueEmail } from "./email-queue";
import { consoleUrls, ownerEmails } from "./recipients";
import type { WebhookEndpointRow } from "./webhook-messages";

// One endpoint_disabled email per owner, in the transaction that disabled the endpoint.
export async function notifyEndpointDisabled(
  tx: Db,
  ep: WebhookEndpointRow,
  reason: string,
  at: Date,
): Promise<void> {
  const { tenantName, emails } = await ownerEmails(tx, ep.tenantId);
  const urls = consoleUrls();
  for (const to of emails) {
    await queueEmail(tx, {
      tenantId: ep.tenantId,
      to: [to],
      template: {
        kind: "endpoint_disabled",
        props: {
          tenantName,
          endpointUrl: ep.url,
          reason,
          disabledAt: iso(at),
          reenableUrl: urls.webhookUrl(ep.id),
          manageUrl: urls.manageUrl,
        },
      },
      dedupeKey: `endpoint_disabled:${ep.id}:${iso(at)}`,
      at,
    });
  }
}
