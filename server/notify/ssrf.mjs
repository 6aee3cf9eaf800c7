import { isIPv4, isIPv6 } from "node:net";

export const MAX_WEBHOOK_URL_LENGTH = 2048;

// IANA special-purpose IPv4 blocks that are not globally reachable (plus multicast, 240/4 and broadcast).
const NON_PUBLIC_V4 = [
  ["0.0.0.0", 8], // "this network", includes unspecified
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // TEST-NET-1
  ["192.88.99.0", 24], // deprecated 6to4 relay anycast
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // TEST-NET-2
  ["203.0.113.0", 24], // TEST-NET-3
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, includes 255.255.255.255
];

function v4ToInt(ip) {
  return ip.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

const NON_PUBLIC_V4_RANGES = NON_PUBLIC_V4.map(([base, bits]) => {
  const size = 2 ** (32 - bits);
  const start = v4ToInt(base);
  return { start, end: start + size - 1 };
});

function isPublicV4Int(value) {
  return !NON_PUBLIC_V4_RANGES.some(
    ({ start, end }) => value >= start && value <= end,
  );
}

/** Eight 16-bit groups; the input must already satisfy `isIPv6` (a zone id is ignored). */
function parseV6(ip) {
  let text = ip.split("%")[0] ?? "";
  const lastColon = text.lastIndexOf(":");
  const tail = text.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = v4ToInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = "", rest] = text.split("::");
  const parse = (s) =>
    s === "" ? [] : s.split(":").map((g) => parseInt(g, 16));
  const left = parse(head);
  if (rest === undefined) return left;
  const right = parse(rest);
  return [
    ...left,
    ...new Array(8 - left.length - right.length).fill(0),
    ...right,
  ];
}

function embeddedV4(high, low) {
  return high * 65536 + low;
}

// Only globally routable unicast counts. Teredo (2001::/32) is refused whole since it tunnels to any
// IPv4; mapped, NAT64 and 6to4 addresses are judged by the IPv4 they embed; deprecated ::/96 is refused.
export function isPublicAddress(ip) {
  if (isIPv4(ip)) return isPublicV4Int(v4ToInt(ip));
  if (!isIPv6(ip)) return false;
  const g = parseV6(ip);
  if (g.length !== 8) return false;
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0) {
    if (g5 === 0xffff) return isPublicV4Int(embeddedV4(g6, g7));
    return false; // ::, ::1, IPv4-compatible
  }
  if (
    g0 === 0x64 &&
    g1 === 0xff9b &&
    g2 === 0 &&
    g3 === 0 &&
    g4 === 0 &&
    g5 === 0
  ) {
    return isPublicV4Int(embeddedV4(g6, g7));
  }
  if ((g0 & 0xe000) !== 0x2000) return false; // ULA, link-local, multicast, 64:ff9b:1::/48, …
  if (g0 === 0x2001 && g1 < 0x0200) return false;
  if (g0 === 0x2001 && g1 === 0x0db8) return false;
  if (g0 === 0x3fff && g1 < 0x1000) return false;
  if (g0 === 0x2002) return isPublicV4Int(embeddedV4(g1, g2));
  return true;
}

// Syntactic check at save time; the address actually connected to is checked again at delivery.
export function validateWebhookUrl(url, { allowPrivate }) {
  if (url.length > MAX_WEBHOOK_URL_LENGTH) {
    return {
      ok: false,
      message: `URL must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`,
    };
  }
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, message: "URL must be a valid absolute URL" };
  }
  const schemeOk =
    parsed.protocol === "https:" ||
    (allowPrivate && parsed.protocol === "http:");
  if (!schemeOk)
    return {
      ok: false,
      message: allowPrivate
        ? "URL must use http or https"
        : "URL must use https",
    };
  if (parsed.username !== "" || parsed.password !== "") {
    return { ok: false, message: "URL must not contain credentials" };
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
  if (host === "") return { ok: false, message: "URL must have a host" };
  if (allowPrivate) return { ok: true };
  if (isIPv4(host) || isIPv6(host)) {
    return isPublicAddress(host)
      ? { ok: true }
      : {
          ok: false,
          message:
            "URL must not target a loopback, private, link-local or reserved address",
        };
  }
  const name = host.replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) {
    return { ok: false, message: "URL must not target localhost" };
  }
  return { ok: true };
}
