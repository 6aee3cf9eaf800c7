import { z } from "zod";
import type { Db } from "@/db/client";
import { audit } from "@/server/audit";
import type { ServiceContext } from "@/server/context";
import { generateWebhookSecret } from "@/server/notify/webhook-signature";
import { getSetting, putSetting } from "@/server/app-settings";

export const CallbackInput = z.strictObject({
  url: z.url({ protocol: /^https?$/ }).max(2048),
  rotateSecret: z.boolean().optional(),
});

export type CallbackSetting = {
  url: string;
  secret: string;
  previousSecret?: string;
  previousSecretExpiresAt?: string;
};

const KEY = "callback";
const OVERLAP_MS = 24 * 3600 * 1000;

export async function getCallback(db: Db): Promise<CallbackSetting | null> {
  return getSetting<CallbackSetting>(db, KEY);
}

export async function putCallback(
  ctx: ServiceContext,
  input: z.infer<typeof CallbackInput>,
) {
  const at = ctx.now;
  const current = await getCallback(ctx.db);
  const makeSecret = !current || input.rotateSecret === true;
  const next: CallbackSetting = makeSecret
    ? {
        url: input.url,
        secret: generateWebhookSecret(),
        ...(current
          ? {
              previousSecret: current.secret,
              previousSecretExpiresAt: new Date(
                at.getTime() + OVERLAP_MS,
              ).toISOString(),
            }
          : {}),
      }
    : { ...current, url: input.url };
  await putSetting(ctx.db, KEY, next);
  await audit(ctx.db, {
    tenantId: null,
    actor: ctx.actor,
    action: "callback.update",
    details: { url: input.url, rotated: makeSecret },
  });
  return makeSecret
    ? { url: next.url, secret: next.secret }
    : { url: next.url };
}
