import { createHmac, randomBytes } from "node:crypto";

const SECRET_PREFIX = "whsec_";

export type WebhookSignatureHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

function secretKey(secret: string): Buffer {
  if (!secret.startsWith(SECRET_PREFIX))
    throw new Error("Webhook secret must start with whsec_");
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), "base64");
  if (key.length === 0) throw new Error("Webhook secret is empty");
  return key;
}

// During a rotation's overlap every current secret signs, so a receiver holding either one verifies.
export function signPayload({
  msgId,
  timestamp,
  body,
  secrets,
}: {
  msgId: string;
  timestamp: Date;
  body: string;
  secrets: string[];
}): WebhookSignatureHeaders {
  if (secrets.length === 0)
    throw new Error("At least one webhook secret is required");
  const seconds = Math.floor(timestamp.getTime() / 1000);
  if (!Number.isFinite(seconds)) throw new Error("Invalid webhook timestamp");
  const signedContent = `${msgId}.${seconds}.${body}`;
  const signature = secrets
    .map(
      (secret) =>
        `v1,${createHmac("sha256", secretKey(secret)).update(signedContent, "utf8").digest("base64")}`,
    )
    .join(" ");
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(seconds),
    "webhook-signature": signature,
  };
}
