// Shared by the server's tRPC endpoint and the console's batch link: a batch holds at most this
// many calls (the server answers a larger one 400).
export const TRPC_MAX_BATCH = 20;
