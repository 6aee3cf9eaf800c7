import { permanentRedirect } from "next/navigation";

// The outbox moved under settings (it is a development aid); old links keep working.
export default function OldOutboxPage() {
  permanentRedirect("/settings/outbox");
}
