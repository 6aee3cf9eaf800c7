import {
  defaultShouldDehydrateQuery,
  QueryClient,
} from "@tanstack/react-query";
import superjson from "superjson";

// Shared by server components (dehydrate) and the browser (hydrate); superjson keeps Dates etc.
export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        retry: (n, e) => n < 2 && !isClientError(e),
      },
      dehydrate: {
        serializeData: superjson.serialize,
        shouldDehydrateQuery: (q) =>
          defaultShouldDehydrateQuery(q) || q.state.status === "pending",
        shouldRedactErrors: () => false,
      },
      hydrate: { deserializeData: superjson.deserialize },
    },
  });
}

function isClientError(e: unknown): boolean {
  const status = (e as { data?: { httpStatus?: number } } | null)?.data
    ?.httpStatus;
  return typeof status === "number" && status >= 400 && status < 500;
}
