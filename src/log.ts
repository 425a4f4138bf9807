import { createHash } from "node:crypto";
import { pino, type Logger } from "pino";

export type { Logger } from "pino";

/**
 * Paths that may hold credentials; pino replaces them wherever a caller passes them by mistake.
 * The primary rule is still: never hand a token or secret to the logger.
 */
const REDACT = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "headers.cookie",
  "*.headers.cookie",
  "token",
  "*.token",
  "access_token",
  "*.access_token",
  "refresh_token",
  "*.refresh_token",
  "id_token",
  "*.id_token",
  "client_secret",
  "*.client_secret",
  "clientSecret",
  "*.clientSecret",
  "password",
  "*.password",
  "secret",
  "*.secret",
];

/** Structured JSON logs on stdout (or the given stream), with credentials redacted. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "nextcloud-mcp-gateway" },
      redact: { paths: REDACT, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Stable pseudonym of a subject for logs: logs never carry the raw `sub`. */
export function subjectHash(issuer: string, sub: string): string {
  return createHash("sha256").update(`${issuer}\u0000${sub}`).digest("base64url").slice(0, 16);
}
