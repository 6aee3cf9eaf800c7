import { INCIDENT_STATUSES } from "@/db/constants";
import type { IncidentStatus } from "@/db/constants";

export const PAGE_SIZE = 50;

export function incidentListInput(status: string | undefined) {
  const s = INCIDENT_STATUSES.find((x) => x === status);
  return { limit: PAGE_SIZE, ...(s ? { status: s } : {}) } as {
    limit: number;
    status?: IncidentStatus;
  };
}
