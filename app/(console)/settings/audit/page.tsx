import type { Metadata } from "next";
import { Suspense } from "react";
import { consoleViewer } from "@/server/auth";
import { HydrateClient, prefetch, trpc } from "@/server/trpc/rsc";
import { byNextCursor } from "@/app/_components/types";
import { Card, TableSkeleton } from "@/app/_components/ui";
import { OwnerOnlyNote } from "../_components/owner-note";
import { AuditView } from "./audit-view";
import { AUDIT_INPUT } from "./input";

export const metadata: Metadata = { title: "Audit log" };

export default async function AuditPage() {
  const viewer = await consoleViewer();
  if (!viewer) return null;
  const role = viewer.tenant.role;
  if (role !== "owner") {
    return (
      <Card title="Audit log">
        <div className="p-4">
          <OwnerOnlyNote what="read the audit log" role={role} />
        </div>
      </Card>
    );
  }
  prefetch(
    trpc.settings.listAudit.infiniteQueryOptions(AUDIT_INPUT, byNextCursor),
  );
  return (
    <HydrateClient>
      <Card title="Audit log" id="audit">
        <Suspense fallback={<TableSkeleton label="Loading the audit log" />}>
          <AuditView />
        </Suspense>
      </Card>
    </HydrateClient>
  );
}
