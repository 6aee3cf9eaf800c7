// Shared by the server page (prefetch) and the client view, so both use the same query key.
export function incidentEntriesInput(incidentId: string) {
  return { incidentId, limit: 50 };
}
