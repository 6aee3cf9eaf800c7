// How often each open console tab asks for the tenant's stamp (incident.stamp): the live view's one
// recurring cost to the server. Shared by live.tsx and the console benchmark, which prices it.
export const LIVE_POLL_MS = 3000;
