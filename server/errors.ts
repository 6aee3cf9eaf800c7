// One error vocabulary for REST and tRPC; mapped in server/http/respond.ts and server/trpc/init.ts.
export type ErrorCode =
  | "invalid_request"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited";

export type ErrorDetail = { path: string; message: string };

export const STATUS_OF: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
};

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
  get status(): number {
    return STATUS_OF[this.code];
  }
}

export class ValidationError extends ApiError {
  constructor(message: string, details?: ErrorDetail[]) {
    super("invalid_request", message, details);
  }
}
export class UnauthorizedError extends ApiError {
  constructor(message = "Missing or invalid credentials") {
    super("unauthorized", message);
  }
}
export class ForbiddenError extends ApiError {
  constructor(message = "Not allowed") {
    super("forbidden", message);
  }
}
export class NotFoundError extends ApiError {
  constructor(message = "Not found") {
    super("not_found", message);
  }
}
// REST only: a path that exists, asked with a method it does not answer (the router adds Allow).
export class MethodNotAllowedError extends ApiError {
  constructor(message: string) {
    super("method_not_allowed", message);
  }
}
export class ConflictError extends ApiError {
  constructor(message: string) {
    super("conflict", message);
  }
}
export class RateLimitedError extends ApiError {
  constructor(message: string, retryAfterSeconds: number) {
    super("rate_limited", message, undefined, retryAfterSeconds);
  }
}
