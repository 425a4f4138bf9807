/** Wire error codes, named as in the RFCs (RFC 6749 §5.2, RFC 6750 §3.1, RFC 8693 §2.2.2). */
export type GatewayErrorCode =
  | "invalid_request"
  | "invalid_token"
  | "insufficient_scope"
  | "invalid_grant"
  | "invalid_target"
  | "access_denied"
  | "temporarily_unavailable"
  | "server_error";

const STATUS: Record<GatewayErrorCode, number> = {
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_grant: 400,
  invalid_target: 400,
  access_denied: 403,
  temporarily_unavailable: 503,
  server_error: 500,
};

/**
 * The one error type of the gateway. `description` is safe to show to clients; `detail` is for
 * the log only (never a token or secret) and says which check failed.
 */
export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  readonly status: number;
  readonly description: string;
  readonly detail: string | undefined;

  constructor(
    code: GatewayErrorCode,
    description: string,
    options: { detail?: string; cause?: unknown; status?: number } = {},
  ) {
    super(description, { cause: options.cause });
    this.name = "GatewayError";
    this.code = code;
    this.status = options.status ?? STATUS[code];
    this.description = description;
    this.detail = options.detail;
  }
}

/** A short, secret-free description of any thrown value, for logs. */
export function describeError(err: unknown): string {
  if (err instanceof GatewayError)
    return `${err.code}: ${err.description}${err.detail ? ` (${err.detail})` : ""}`;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const cause = err.cause instanceof Error ? `; cause: ${err.cause.message}` : "";
    return `${typeof code === "string" ? `${code}: ` : ""}${err.message}${cause}`;
  }
  return String(err);
}
