// POST /webhooks/nextcloud: deliveries of Nextcloud's webhook_listeners app (node and calendar
// object events), each of which may only ask for a prompt re-index of the item it names. The checks,
// cheapest first: a per-address rate limit (429), the shared secret in constant time (401), the
// content type (415), the size while reading (413), JSON (400), the envelope and its event time
// (400). Then the body's digest is recorded (a replay is a `duplicate`), the item's folders are
// marked as changed for each user with an index, and the index job is asked to run for them.
import { createHash } from "node:crypto";
import type { Context, Handler } from "hono";
import type { Kysely } from "kysely";
import { acceptDelivery, type Database } from "../store/index.ts";
import type { AppEnv } from "./env.ts";
import type { RateLimiter } from "./middleware/rate-limit.ts";
import { eventTimeProblem, parseDelivery } from "./webhook-payload.ts";
import { secretCheck } from "./webhook-secret.ts";

/** What happened to a delivery; the label of `gateway_webhook_deliveries_total`. */
export type WebhookOutcome =
  | "scheduled"
  | "ignored"
  | "duplicate"
  | "rate_limited"
  | "unauthorized"
  | "unsupported_media_type"
  | "too_large"
  | "malformed"
  | "stale";

/** What {@link nextcloudWebhook} needs. */
export interface WebhookSettings {
  db: Kysely<Database>;
  /** WEBHOOK_SECRET, then WEBHOOK_SECRET_PREVIOUS when set. */
  secrets: readonly string[];
  maxBodyBytes: number;
  maxAgeSeconds: number;
  /** Per client address; absent when the limit is off. */
  limiter?: RateLimiter | undefined;
  /** The client's address as the rate limits key it (trusted proxies applied). */
  clientKey: (c: Context<AppEnv>) => string;
  /** Asks for a prompt index run for these gateway users (absent when jobs do not run here). */
  trigger?: ((userIds: readonly string[]) => void) | undefined;
  now?: () => Date;
  /** Where the outcomes are counted (shared with /metrics); a fresh record when absent. */
  counts?: Record<WebhookOutcome, number> | undefined;
}

/** A record of zero counts for every outcome. */
export function webhookCounts(): Record<WebhookOutcome, number> {
  return {
    scheduled: 0,
    ignored: 0,
    duplicate: 0,
    rate_limited: 0,
    unauthorized: 0,
    unsupported_media_type: 0,
    too_large: 0,
    malformed: 0,
    stale: 0,
  };
}

/** Reads at most `max` bytes of the body; undefined when it is longer (the rest is not read). */
async function readBounded(req: Request, max: number): Promise<Uint8Array | undefined> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > max) return undefined;
  if (req.body === null) return new Uint8Array();
  const reader = (req.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/**
 * The handler of `POST /webhooks/nextcloud` and the counts of its outcomes (for /metrics). See the
 * file comment; docs/operations.md says how to register the webhook in Nextcloud.
 */
export function nextcloudWebhook(settings: WebhookSettings): {
  handler: Handler<AppEnv>;
  counts: Record<WebhookOutcome, number>;
} {
  const check = secretCheck(settings.secrets);
  const now = settings.now ?? (() => new Date());
  const maxAgeMs = settings.maxAgeSeconds * 1000;
  const counts = settings.counts ?? webhookCounts();
  const refuse = (
    c: Context<AppEnv>,
    outcome: WebhookOutcome,
    status: 400 | 401 | 413 | 415 | 429,
    error: string,
    description: string,
    headers: Record<string, string> = {},
  ) => {
    counts[outcome]++;
    c.get("log").warn({ outcome, status }, "webhook delivery refused");
    return c.json({ error, error_description: description }, status, {
      "cache-control": "no-store",
      ...headers,
    });
  };

  const handler: Handler<AppEnv> = async function nextcloudWebhookHandler(c) {
    const wait = settings.limiter?.take(settings.clientKey(c)) ?? 0;
    if (wait > 0) {
      return refuse(
        c,
        "rate_limited",
        429,
        "too_many_requests",
        `Too many webhook deliveries from this address; try again in ${wait} second${wait === 1 ? "" : "s"}.`,
        { "retry-after": String(wait) },
      );
    }
    if (check(c.req.header("authorization")) === undefined) {
      return refuse(
        c,
        "unauthorized",
        401,
        "invalid_token",
        "This endpoint needs the webhook secret as `Authorization: Bearer <WEBHOOK_SECRET>`.",
        { "www-authenticate": 'Bearer realm="webhooks"' },
      );
    }
    const type = (c.req.header("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
    if (type !== "application/json") {
      return refuse(
        c,
        "unsupported_media_type",
        415,
        "invalid_request",
        'The body must be JSON sent as `Content-Type: application/json`; register the webhook with that header (headers: {"Content-Type": "application/json"}).',
      );
    }
    const raw = await readBounded(c.req.raw, settings.maxBodyBytes);
    if (raw === undefined) {
      return refuse(
        c,
        "too_large",
        413,
        "invalid_request",
        `The body is larger than ${settings.maxBodyBytes} bytes (WEBHOOK_MAX_BODY_BYTES).`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(raw));
    } catch (err) {
      const why = err instanceof SyntaxError ? err.message : "not UTF-8";
      return refuse(c, "malformed", 400, "invalid_request", `The body is not JSON (${why}).`);
    }
    const parsed = parseDelivery(body);
    if ("problem" in parsed) {
      return refuse(
        c,
        "malformed",
        400,
        "invalid_request",
        `Not a webhook_listeners delivery: ${parsed.problem}.`,
      );
    }
    const stale = eventTimeProblem(parsed.time, now(), maxAgeMs);
    if (stale !== undefined) return refuse(c, "stale", 400, "invalid_request", `Refused: ${stale}.`);
    const log = c.get("log");
    if (parsed.kind === "ignored") {
      counts.ignored++;
      log.info({ outcome: "ignored", event: parsed.eventClass }, "webhook delivery ignored");
      return c.json({ status: "ignored", reason: parsed.reason }, 202);
    }
    const outcome = await acceptDelivery(settings.db, {
      digest: createHash("sha256").update(raw).digest(),
      eventTime: parsed.time,
      now: now(),
      maxAgeMs,
      changes: parsed.changes,
    });
    counts[outcome.status]++;
    if (outcome.status === "scheduled") settings.trigger?.(outcome.userIds);
    log.info(
      {
        outcome: outcome.status,
        event: parsed.eventClass,
        users: outcome.status === "scheduled" ? outcome.userIds.length : 0,
      },
      "webhook delivery",
    );
    return c.json({ status: outcome.status }, 202);
  };
  return { handler, counts };
}
