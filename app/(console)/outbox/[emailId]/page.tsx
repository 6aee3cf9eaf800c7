import { permanentRedirect } from "next/navigation";

// The outbox moved under settings; an old link to a message opens it there.
export default async function OldOutboxEmailPage({
  params,
}: {
  params: Promise<{ emailId: string }>;
}) {
  const { emailId } = await params;
  permanentRedirect(`/settings/outbox/${encodeURIComponent(emailId)}`);
}
