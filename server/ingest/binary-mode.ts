import { ValidationError } from "@/server/errors";
import type { ErrorDetail } from "@/server/errors";

// CloudEvents HTTP binary content mode (http-protocol-binding.md, 3.1.3): the context attributes
// come as ce-<name> headers and the body is the event's data. This is what the official SDKs'
// HTTP.binary emitters send by default. The event is rebuilt in structured form, so it is
// validated, stored and re-read exactly like one sent structured.

const ATTRIBUTES = [
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "subject",
] as const;

export function isBinaryMode(headers: Headers): boolean {
  for (const name of headers.keys()) if (name.startsWith("ce-")) return true;
  return false;
}

// Header values are percent-encoded where they hold anything but printable ASCII (3.1.3.2).
function decodeHeader(name: string, value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new ValidationError(
      `Invalid event: ${name}: is not valid percent-encoded UTF-8`,
      [{ path: name, message: "is not valid percent-encoded UTF-8" }],
    );
  }
}

// Unknown ce-* headers are extensions: accepted and dropped, as unknown attributes of a structured event are.
export function eventFromBinaryMode(
  headers: Headers,
  data: unknown,
): Record<string, unknown> {
  const event: Record<string, unknown> = {};
  for (const attr of ATTRIBUTES) {
    const value = headers.get(`ce-${attr}`);
    if (value !== null) event[attr] = decodeHeader(`ce-${attr}`, value);
  }
  event.datacontenttype = "application/json";
  event.data = data;
  return event;
}

// Names a context attribute by the header it came in; a missing header is said to be missing.
export function binaryModeDetails(
  event: unknown,
  details: ErrorDetail[],
): ErrorDetail[] {
  const present =
    event !== null && typeof event === "object"
      ? (event as Record<string, unknown>)
      : {};
  return details.map((d) => {
    const attr = ATTRIBUTES.find((a) => d.path === a);
    if (!attr) return d;
    return {
      path: `ce-${attr}`,
      message: present[attr] === undefined ? "header is missing" : d.message,
    };
  });
}
