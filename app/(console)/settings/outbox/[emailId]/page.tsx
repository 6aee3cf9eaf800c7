import { TRPCError } from "@trpc/server";
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { fetchQuery, HydrateClient, trpc } from "@/server/trpc/rsc";
import { EmailView } from "@/app/_components/email-view";
import { consoleViewer } from "@/server/auth";

export const metadata: Metadata = { title: "Email" };

export default async function EmailPage({
  params,
}: {
  params: Promise<{ emailId: string }>;
}) {
  if (!(await consoleViewer())) return null;
  const { emailId } = await params;
  try {
    await fetchQuery(trpc.outbox.byId.queryOptions({ id: emailId }));
  } catch (e) {
    if (
      e instanceof TRPCError &&
      (e.code === "NOT_FOUND" || e.code === "BAD_REQUEST")
    )
      notFound();
    throw e;
  }
  return (
    <HydrateClient>
      <EmailView emailId={emailId} />
    </HydrateClient>
  );
}
