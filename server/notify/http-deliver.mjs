// Plain JavaScript (types in http-deliver.d.mts): the HTTP sender's worker thread loads it from disk,
// and production has no TypeScript loader.
import { lookup as dnsLookup } from "node:dns";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { performance } from "node:perf_hooks";
import { isPublicAddress, validateWebhookUrl } from "./ssrf.mjs";

export const DEFAULT_DELIVERY_TIMEOUT_MS = 15_000;
export const RESPONSE_EXCERPT_BYTES = 1024;
const USER_AGENT = "Poisonwatch-Webhooks/1";

const systemResolveHost = (hostname, options) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses),
    );
  });

// Node skips `lookup` for IP-literal hosts, so those are refused earlier by validateWebhookUrl;
// every name goes through here, so the socket only ever connects to an address checked now.
export function guardedLookup({
  allowPrivate,
  resolveHost = systemResolveHost,
}) {
  return (hostname, options, callback) => {
    resolveHost(hostname, {
      family: options.family,
      hints: options.hints,
    }).then(
      (addresses) => {
        const allowed = allowPrivate
          ? addresses
          : addresses.filter((a) => isPublicAddress(a.address));
        const first = allowed[0];
        process.nextTick(() => {
          if (first === undefined) {
            const seen = addresses.map((a) => a.address).join(", ");
            const err = new Error(
              seen === ""
                ? `${hostname} did not resolve to any address`
                : `refused: ${hostname} resolves to a non-public address (${seen})`,
            );
            Object.assign(err, { code: "ERR_WEBHOOK_ADDRESS_REFUSED" });
            callback(err, "");
          } else if (options.all) {
            callback(null, allowed);
          } else {
            callback(null, first.address, first.family);
          }
        });
      },
      (err) => process.nextTick(() => callback(err, "")),
    );
  };
}

// Connections are kept open between deliveries to the same origin (a TLS handshake per delivery
// costs more than the delivery). A pooled socket only ever connected to an address the guard
// passed, and it is reused only by the same agent for the same host and port; the two kinds of
// target (private addresses allowed or not) have agents of their own, so a socket opened for one
// never carries the other's request.
const POOL = { keepAlive: true, timeout: 15_000, maxFreeSockets: 64 };
const agents = {
  "http:": { private: new HttpAgent(POOL), public: new HttpAgent(POOL) },
  "https:": { private: new HttpsAgent(POOL), public: new HttpsAgent(POOL) },
};

export function agentFor(protocol, allowPrivate) {
  const pool = agents[protocol === "https:" ? "https:" : "http:"];
  return allowPrivate ? pool.private : pool.public;
}

export function parseRetryAfter(value, nowMs = Date.now()) {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text))
    return Math.min(Number(text), Number.MAX_SAFE_INTEGER);
  // HTTP-dates always contain a day or month name; this keeps Date.parse from accepting bare numbers.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

function errorMessage(err) {
  return err instanceof Error && err.message !== "" ? err.message : String(err);
}

export function deliverHttp({
  url,
  headers,
  body,
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
  allowPrivate,
  resolveHost,
}) {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let timer;
    let req;
    let statusCode = null;
    let retryAfterSeconds;
    const chunks = [];
    let received = 0;

    const excerpt = () =>
      new TextDecoder().decode(
        Buffer.concat(chunks).subarray(0, RESPONSE_EXCERPT_BYTES),
        { stream: true },
      );

    // Once a status has arrived it decides the outcome; later body or socket trouble only shortens the excerpt.
    // Only a response read to its end leaves the connection open for the next delivery.
    const finish = (error, opts = {}) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!opts.complete) req?.destroy();
      const result = {
        statusCode,
        latencyMs: Math.round(performance.now() - started),
        responseExcerpt: excerpt(),
      };
      if (statusCode === null) result.error = error ?? "no response";
      if (retryAfterSeconds !== undefined)
        result.retryAfterSeconds = retryAfterSeconds;
      resolve(result);
    };

    try {
      const check = validateWebhookUrl(url, { allowPrivate });
      if (!check.ok) return finish(check.message);
      const target = new URL(url);

      const outgoing = { "user-agent": USER_AGENT };
      for (const [name, value] of Object.entries(headers))
        outgoing[name.toLowerCase()] = value;
      outgoing["content-type"] = "application/json";
      outgoing["content-length"] = Buffer.byteLength(body);

      timer = setTimeout(() => finish("timeout"), timeoutMs);
      const send = target.protocol === "https:" ? httpsRequest : httpRequest;
      req = send(target, {
        method: "POST",
        headers: outgoing,
        // a replaced resolver (tests) gets a connection of its own, never a pooled one
        agent: resolveHost ? false : agentFor(target.protocol, allowPrivate),
        lookup: guardedLookup({ allowPrivate, resolveHost }),
      });
      req.on("error", (err) => finish(errorMessage(err)));
      req.on("response", (res) => {
        statusCode = res.statusCode ?? null;
        if (statusCode === 429 || statusCode === 503) {
          retryAfterSeconds = parseRetryAfter(res.headers["retry-after"]);
        }
        res.on("data", (chunk) => {
          chunks.push(chunk);
          received += chunk.length;
          if (received >= RESPONSE_EXCERPT_BYTES) finish();
        });
        res.on("end", () => finish(undefined, { complete: true }));
        res.on("error", (err) => finish(errorMessage(err)));
      });
      req.end(body);
    } catch (err) {
      finish(errorMessage(err));
    }
  });
}

export function classifyDelivery(result) {
  const { statusCode } = result;
  if (statusCode !== null && statusCode >= 200 && statusCode < 300)
    return "success";
  if (statusCode === 410) return "gone";
  return "retry";
}
