import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";

export type Outputs = inferRouterOutputs<AppRouter>;
export type Inputs = inferRouterInputs<AppRouter>;
export type IncidentListItem = Outputs["incident"]["list"]["data"][number];
export type IncidentDetail = Outputs["incident"]["byId"];
export type LogEntry = Outputs["logEntry"]["list"]["data"][number];
export type VmItem = Outputs["vm"]["list"]["data"][number];

export const byNextCursor = {
  getNextPageParam: (p: { nextCursor: string | null }) => p.nextCursor,
};
