// Request limits per client address, for all clients together, and per signed-in user: token buckets
// in this replica's memory, bounded in keys (least recently seen forgotten first). DESIGN §6 rules 8
// and 9, ADR 0009. Over a limit: 429 with Retry-After, in the answer format of the endpoint.
import type { Context, MiddlewareHandler } from "hono";
import type { BlockList } from "node:net";
import { isIP } from "node:net";
import { subjectHash } from "../../log.ts";
import type { AppEnv } from "../env.ts";

/** Which limit refused a request; the label of `gateway_rate_limited_total`. */
export type LimitScope = "anonymous_ip" | "anonymous_global" | "mcp_user";

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets: each key may spend `perMinute` requests at once and gets them back evenly over a
 * minute. At most `maxKeys` buckets are kept; a new key beyond that forgets the least recently used
 * one (which then starts full again: the global limit covers floods from many keys).
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #perMs: number;
  readonly perMinute: number;
  readonly maxKeys: number;
  readonly #now: () => number;

  constructor(perMinute: number, maxKeys: number, now: () => number = Date.now) {
    if (perMinute <= 0 || maxKeys <= 0) throw new Error("a rate limiter needs a positive rate and size");
    this.perMinute = perMinute;
    this.maxKeys = maxKeys;
    this.#perMs = perMinute / 60_000;
    this.#now = now;
  }

  /** How many keys are remembered now (at most `maxKeys`). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Spends one request of `key`: 0 when allowed, else the whole seconds until one is available. */
  take(key: string): number {
    return this.#use(key, 1);
  }

  /** 0 when `key` could spend a request now, else the seconds until it can; spends nothing. */
  peek(key: string): number {
    return this.#use(key, 0);
  }

  #use(key: string, cost: number): number {
    const now = this.#now();
    const old = this.#buckets.get(key);
    if (!old && cost === 0) return 0;
    const tokens = old
      ? Math.min(this.perMinute, old.tokens + Math.max(0, now - old.at) * this.#perMs)
      : this.perMinute;
    // Re-inserting moves the key to the end of the Map's order: the first key is the least recent.
    this.#buckets.delete(key);
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / this.#perMs / 1000));
    }
    this.#buckets.set(key, { tokens: tokens - cost, at: now });
    while (this.#buckets.size > this.maxKeys) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done === true) break;
      this.#buckets.delete(oldest.value);
    }
    return 0;
  }
}

/** How a refused request is answered: the endpoint's own format (JSON, JSON-RPC, an HTML page). */
export type TooManyRequests = (c: Context<AppEnv>, retryAfterSeconds: number) => Response;

/** Counts of refused requests per scope, for /metrics. */
export type LimitCounts = Record<LimitScope, number>;

/** The gateway's limits (each absent when off), the counts, and how to find a client's address. */
export interface RateLimits {
  anonymousIp: RateLimiter | undefined;
  anonymousGlobal: RateLimiter | undefined;
  mcpUser: RateLimiter | undefined;
  counts: LimitCounts;
  clientKey: (c: Context<AppEnv>) => string;
}

const refuse = (
  c: Context<AppEnv>,
  limits: RateLimits,
  scope: LimitScope,
  retryAfter: number,
  answer: TooManyRequests,
) => {
  limits.counts[scope] += 1;
  c.get("log").debug({ scope, retryAfter }, "rate limited");
  const res = answer(c, retryAfter);
  res.headers.set("retry-after", String(retryAfter));
  return res;
};

/**
 * Limits an endpoint that needs no sign-in: per client address first (a refused request does not
 * count against the global limit), then all clients together.
 */
export function anonymousRateLimit(limits: RateLimits, answer: TooManyRequests): MiddlewareHandler<AppEnv> {
  return async function anonymousRateLimitMiddleware(c, next) {
    const perIp = limits.anonymousIp?.take(limits.clientKey(c)) ?? 0;
    if (perIp > 0) return refuse(c, limits, "anonymous_ip", perIp, answer);
    const global = limits.anonymousGlobal?.take("*") ?? 0;
    if (global > 0) return refuse(c, limits, "anonymous_global", global, answer);
    await next();
    return undefined;
  };
}

/**
 * Limits refused (401) requests to a signed-in endpoint per client address: an address over the
 * limit is refused before its token is looked at, and only 401 answers count, so clients with a
 * valid token never spend it.
 */
export function unauthenticatedRateLimit(
  limits: RateLimits,
  answer: TooManyRequests,
): MiddlewareHandler<AppEnv> {
  return async function unauthenticatedRateLimitMiddleware(c, next) {
    const limiter = limits.anonymousIp;
    if (!limiter) return next();
    const key = limits.clientKey(c);
    const wait = limiter.peek(key);
    if (wait > 0) return refuse(c, limits, "anonymous_ip", wait, answer);
    await next();
    if (c.res.status === 401) limiter.take(key);
    return undefined;
  };
}

/** Limits each signed-in user (by a hash of issuer and subject); runs after bearer authentication. */
export function userRateLimit(limits: RateLimits, answer: TooManyRequests): MiddlewareHandler<AppEnv> {
  return async function userRateLimitMiddleware(c, next) {
    const limiter = limits.mcpUser;
    const auth = c.get("auth") as AppEnv["Variables"]["auth"] | undefined;
    if (limiter && auth) {
      const wait = limiter.take(subjectHash(auth.verified.issuer, auth.verified.subject));
      if (wait > 0) return refuse(c, limits, "mcp_user", wait, answer);
    }
    await next();
    return undefined;
  };
}

/** The connection's remote address as @hono/node-server exposes it; undefined in app.request(). */
function socketAddress(c: Context<AppEnv>): string | undefined {
  // The node adapter passes { incoming, outgoing } as the env (or under `server`).
  const env = c.env as
    | {
        incoming?: { socket?: { remoteAddress?: string } };
        server?: { incoming?: { socket?: { remoteAddress?: string } } };
      }
    | undefined;
  return (env?.server ?? env)?.incoming?.socket?.remoteAddress;
}

/** `::ffff:192.0.2.1` as `192.0.2.1`; other addresses unchanged. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m?.[1] ?? address;
}

const familyOf = (address: string) => (isIP(address) === 6 ? "ipv6" : "ipv4");

/**
 * The client's address: the connection's, or, when the connection comes from a trusted proxy, the
 * rightmost address in X-Forwarded-For that is not itself a trusted proxy. Anything that is not an
 * IP address stops the walk (a client can write what it likes to the left of its proxy's entry).
 */
export function clientAddress(c: Context<AppEnv>, trusted: BlockList | undefined): string | undefined {
  const socket = socketAddress(c);
  if (socket === undefined) return undefined;
  let client = unmapped(socket);
  if (!trusted?.check(client, familyOf(client))) return client;
  const hops = (c.req.header("x-forwarded-for") ?? "")
    .split(",")
    .map((h) => unmapped(h.trim()))
    .filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? "";
    if (isIP(hop) === 0) break;
    client = hop;
    if (!trusted.check(hop, familyOf(hop))) break;
  }
  return client;
}

/** The key a client address is counted under: IPv4 as is, IPv6 by its /64 (one host's usual share). */
export function addressKey(address: string | undefined): string {
  if (address === undefined) return "unknown";
  if (isIP(address) !== 6) return address;
  const [head = "", tail] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}
