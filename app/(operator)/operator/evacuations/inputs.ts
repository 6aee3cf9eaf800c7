// Shared by the server page (prefetch) and the client list, so both use the same query key.
export type EvacuationStatus =
  "scheduled" | "in_progress" | "completed" | "cancelled";

export function evacuationsInput(status: EvacuationStatus | null) {
  return { limit: 50, ...(status ? { status } : {}) };
}
