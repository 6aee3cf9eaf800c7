import type { EmailChannel } from "../channel";

// Email renders when it is queued (email-queue.ts: React Email templates, stored so every retry
// sends the same bytes) and is sent by email-send.ts through Resend; recipients come from the
// notification settings rather than subscriptions.
export const emailChannel: EmailChannel = {
  kind: "email",
  transport: "email",
  label: "Email",
};
