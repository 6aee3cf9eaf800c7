// Shared by the server page (prefetch) and the client list, so both use the same query key.
export type HostState = "healthy" | "degraded" | "evacuate";

export function hostsInput(state: HostState | undefined | null) {
  return { limit: 100, order: "id" as const, ...(state ? { state } : {}) };
}
