// server/notify/http-deliver.mjs: plain JavaScript, because the HTTP sender's worker thread loads it
// from disk (production has no TypeScript loader).
import type { LookupAddress, LookupOptions } from "node:dns";
import type { Agent as HttpAgent } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import type { LookupFunction } from "node:net";

export const DEFAULT_DELIVERY_TIMEOUT_MS: number;
export const RESPONSE_EXCERPT_BYTES: number;

export type DeliveryResult = {
  statusCode: number | null;
  error?: string;
  latencyMs: number;
  responseExcerpt: string;
  retryAfterSeconds?: number;
};

export type DeliveryOutcome = "success" | "gone" | "retry";

export type ResolveHost = (
  hostname: string,
  options: Pick<LookupOptions, "family" | "hints">,
) => Promise<LookupAddress[]>;

export type DeliveryRequest = {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs?: number;
  allowPrivate: boolean;
  /** Replaces system DNS (tests); its answers are still checked. */
  resolveHost?: ResolveHost;
};

// A lookup that only ever hands the socket an address checked now (public unless allowPrivate).
export function guardedLookup(opts: {
  allowPrivate: boolean;
  resolveHost?: ResolveHost;
}): LookupFunction;

// The keep-alive pool for a protocol and a kind of target (private addresses allowed or not).
export function agentFor(
  protocol: string,
  allowPrivate: boolean,
): HttpAgent | HttpsAgent;

// Retry-After as seconds (delta-seconds or an HTTP-date), or undefined.
export function parseRetryAfter(
  value: string | undefined,
  nowMs?: number,
): number | undefined;

// POSTs the body; never throws: a failure is a result with statusCode null and an error.
export function deliverHttp(request: DeliveryRequest): Promise<DeliveryResult>;

export function classifyDelivery(
  result: Pick<DeliveryResult, "statusCode">,
): DeliveryOutcome;
