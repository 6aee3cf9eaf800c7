import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { ApiError, ValidationError } from "@/server/errors";

export const MAX_JSON_BODY = 1024 * 1024;

const tooLarge = (limit: number, what: string) =>
  new ApiError("payload_too_large", `${what} is larger than ${limit} bytes`);

// The request's bytes, at most `limit` of them; a longer body is a 413 as soon as it passes the limit.
async function* boundedChunks(
  req: Request,
  limit: number,
  what: string,
): AsyncGenerator<Uint8Array> {
  if (!req.body) return;
  const reader = req.body.getReader();
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
      if (total > limit) throw tooLarge(limit, what);
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

// "gzip" (x-gzip is its old name) or nothing; any other coding is a 415 rather than garbage to parse.
function contentCodingOf(req: Request): "gzip" | "identity" {
  const codings = (req.headers.get("content-encoding") ?? "")
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "" && c !== "identity");
  if (codings.length === 0) return "identity";
  if (
    codings.length === 1 &&
    (codings[0] === "gzip" || codings[0] === "x-gzip")
  )
    return "gzip";
  throw new ApiError(
    "unsupported_media_type",
    `Content-Encoding ${codings.join(", ")} is not supported; send gzip or no encoding`,
  );
}

// The body as text, bounded before and while it is read. With Content-Encoding: gzip the limit
// applies to the decompressed bytes: they are counted as the stream inflates and the request is
// cut off at the limit, so a compression bomb costs at most `limit` bytes of memory.
export async function readBodyText(
  req: Request,
  limit = MAX_JSON_BODY,
): Promise<string> {
  const coding = contentCodingOf(req);
  const len = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(len) && len > limit) throw tooLarge(limit, "Body");
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (coding === "identity") {
    for await (const chunk of boundedChunks(req, limit, "Body"))
      chunks.push(chunk);
    return Buffer.concat(chunks).toString("utf8");
  }
  let refused: ApiError | null = null;
  const source = Readable.from(boundedChunks(req, limit, "Compressed body"));
  source.on("error", (e) => {
    if (e instanceof ApiError) refused ??= e;
  });
  try {
    await pipeline(
      source,
      createGunzip(),
      async (inflated: AsyncIterable<Buffer>) => {
        for await (const chunk of inflated) {
          total += chunk.byteLength;
          if (total > limit)
            throw (refused = tooLarge(limit, "Decompressed body"));
          chunks.push(chunk);
        }
      },
    );
  } catch (e) {
    // the stream that failed first decides; the others only report being cut off
    if (refused) throw refused;
    if (e instanceof ApiError) throw e;
    throw new ValidationError(
      `Body is not valid gzip (Content-Encoding: gzip): ${(e as Error).message}`,
    );
  }
  return Buffer.concat(chunks).toString("utf8");
}

// The same request with its body read (up to limit, decompressed) into memory, or with no body
// at all (limit 0: a caller refused anyway needs none of it). For handlers that read the body
// themselves (tRPC, better-auth), after the caller is authenticated.
export async function withBoundedBody(
  req: Request,
  limit: number,
): Promise<Request> {
  if (req.method === "GET" || req.method === "HEAD") return req;
  const body = limit > 0 ? await readBodyText(req, limit) : undefined;
  const headers = new Headers(req.headers);
  for (const h of ["content-length", "transfer-encoding", "content-encoding"])
    headers.delete(h);
  return new Request(req.url, { method: req.method, headers, body });
}
