import { TRPCError } from "@trpc/server";
import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { requireOperator } from "@/server/auth";
import { fetchQuery, HydrateClient, trpc } from "@/server/trpc/rsc";
import { EmailView } from "@/app/_components/email-view";

export const metadata: Metadata = { title: "Email" };

export default async function OperatorEmailPage({
  params,
}: {
  params: Promise<{ emailId: string }>;
}) {
  // the layout answers 404 to anyone else; no query starts for them meanwhile
  await requireOperator();
  const { emailId } = await params;
  try {
    await fetchQuery(trpc.operator.outboxEmail.queryOptions({ id: emailId }));
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
      <EmailView emailId={emailId} scope="operator" />
    </HydrateClient>
  );
}
