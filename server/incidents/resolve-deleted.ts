import { and, eq, ne, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { incidents } from "@/db/schema";
import type { vms } from "@/db/schema";
import { afterResolving } from "./resolve-quiet";

// A deleted VM has no disruption left to follow: its unresolved incident resolves now (the tenant
// is told, coalesced like any change), inside the deletion's transaction. A VM later created with
// the same id is another incarnation and opens its own incident.
export async function resolveIncidentsOfDeletedVm(
  tx: Db,
  vm: Pick<typeof vms.$inferSelect, "incarnation">,
  at: Date,
): Promise<number> {
  const rows = await tx
    .update(incidents)
    .set({
      status: "resolved",
      resolvedAt: at,
      updatedAt: at,
      version: sql`${incidents.version} + 1`,
    })
    .where(
      and(
        eq(incidents.vmIncarnation, vm.incarnation),
        ne(incidents.status, "resolved"),
      ),
    )
    .returning();
  await afterResolving(tx, rows, at, "Resolved: the VM was deleted", {
    because: "vm_deleted",
  });
  return rows.length;
}
