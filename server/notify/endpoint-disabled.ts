import type { Db } from "@/db/client";
import { iso } from "@/server/core/time";
import { httpChannel } from "./channels";
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
  // a chat URL carries its secret: the mail names the channel instead
  const channel = ep.kind === "webhook" ? null : httpChannel(ep.kind);
  const endpointUrl = channel
    ? `${channel.label} channel ${ep.description ?? ep.id}`
    : ep.url;
  for (const to of emails) {
    await queueEmail(tx, {
      tenantId: ep.tenantId,
      to: [to],
      template: {
        kind: "endpoint_disabled",
        props: {
          tenantName,
          endpointUrl,
          reason,
          disabledAt: iso(at),
          reenableUrl: channel
            ? urls.channelUrl(ep.kind)
            : urls.webhookUrl(ep.id),
          manageUrl: urls.manageUrl,
        },
      },
      dedupeKey: `endpoint_disabled:${ep.id}:${iso(at)}`,
      at,
    });
  }
}
