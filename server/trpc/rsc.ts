import "server-only";
import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type {
  FetchInfiniteQueryOptions,
  FetchQueryOptions,
} from "@tanstack/react-query";
import { createTRPCOptionsProxy } from "@trpc/tanstack-react-query";
import { cache, createElement } from "react";
import type { ReactNode } from "react";
import { makeQueryClient } from "./query-client";
import { getDb } from "@/db";
import { getViewer } from "@/server/auth";
import type { TRPCContext } from "./init";
import { appRouter } from "./router";

// Server components: one query client and one context per request.
export const getQueryClient = cache(makeQueryClient);

// The viewer that the console layout resolved for this request: one session lookup per page.
const createContext = cache(async (): Promise<TRPCContext> => {
  const viewer = await getViewer();
  return {
    db: await getDb(),
    session: viewer,
    memberships: viewer?.memberships,
  };
});

export const trpc = createTRPCOptionsProxy({
  ctx: createContext,
  router: appRouter,
  queryClient: getQueryClient,
});

export function HydrateClient({ children }: { children: ReactNode }) {
  return createElement(
    HydrationBoundary,
    { state: dehydrate(getQueryClient()) },
    children,
  );
}

// Start a query on the server without waiting for it; the client picks it up when it streams in.
export function prefetch(options: { queryKey: readonly unknown[] }) {
  const qc = getQueryClient();
  if (
    (options.queryKey[1] as { type?: string } | undefined)?.type === "infinite"
  ) {
    void qc.prefetchInfiniteQuery(
      options as unknown as FetchInfiniteQueryOptions,
    );
  } else {
    void qc.prefetchQuery(options as FetchQueryOptions);
  }
}

// Wait for a query on the server (e.g. to answer 404 for another tenant's id) and keep it for hydration.
export function fetchQuery<T extends { queryKey: readonly unknown[] }>(
  options: T,
) {
  return getQueryClient().fetchQuery(
    options as unknown as FetchQueryOptions,
  ) as Promise<
    T extends { queryFn?: (...a: never[]) => infer R } ? Awaited<R> : unknown
  >;
}

// The same for an infinite (cursor) query: its first page, awaited.
export async function fetchFirstPage(options: {
  queryKey: readonly unknown[];
}): Promise<void> {
  await getQueryClient().fetchInfiniteQuery(
    options as unknown as FetchInfiniteQueryOptions,
  );
}
