import { createHash } from "node:crypto";
import type { JWTVerifyGetKey } from "jose";
import { verifyAccessToken, type TokenExpectations, type VerifiedToken } from "./verify.ts";

/** Default bound of {@link VerifiedTokenCache}. */
export const DEFAULT_MAX_CACHED_TOKENS = 10_000;

/** Options of {@link VerifiedTokenCache}. */
export interface VerifiedTokenCacheOptions {
  /** Most entries kept; the oldest inserted goes first. Default {@link DEFAULT_MAX_CACHED_TOKENS}. */
  maxEntries?: number;
  /** Clock in milliseconds since the epoch. */
  now?: () => number;
}

/**
 * SHA-256 of a token, base64url: what the gateway's caches key tokens by, so that they never hold a
 * usable token. A request computes it once (bearer auth) and hands it on to the exchange cache.
 */
export function tokenDigest(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/**
 * Verified tokens by SHA-256 of the token, each served until its `exp` and never after, bounded by
 * evicting the oldest inserted. One cache belongs to one issuer and audience: it does not re-check them.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, VerifiedToken>();
  readonly #maxEntries: number;
  readonly #now: () => number;

  constructor(options: VerifiedTokenCacheOptions = {}) {
    const maxEntries = options.maxEntries ?? DEFAULT_MAX_CACHED_TOKENS;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** Entries held, including expired ones not yet dropped. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * The verified token for `token`, or undefined when it is not cached or has reached its `exp`.
   * @param digest `tokenDigest(token)`, when the caller has it already.
   */
  get(token: string, digest?: string): VerifiedToken | undefined {
    const key = digest ?? tokenDigest(token);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#now() >= entry.expiresAt * 1000) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Stores a verified token until its `exp`; one already at its `exp` is not stored. */
  set(token: string, verified: VerifiedToken, digest?: string): void {
    if (this.#now() >= verified.expiresAt * 1000) return;
    const key = digest ?? tokenDigest(token);
    this.#entries.delete(key);
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, verified);
  }
}

/** Options of {@link createTokenVerifier}. */
export interface TokenVerifierOptions extends TokenExpectations {
  /** The IdP's key set, e.g. the `RemoteJWKSet` from discovery. */
  getKey: JWTVerifyGetKey;
  /** Default: a new cache on the same clock. */
  cache?: VerifiedTokenCache;
  /** Clock in milliseconds since the epoch. */
  now?: () => number;
}

/** Cache counters, for metrics. */
export interface TokenVerifierStats {
  readonly hits: number;
  readonly misses: number;
}

/** Verifies access tokens, remembering the ones that passed. */
export interface TokenVerifier {
  /**
   * @param digest `tokenDigest(token)`, when the caller has it already.
   * @throws GatewayError as {@link verifyAccessToken} does.
   */
  verify(token: string, digest?: string): Promise<VerifiedToken>;
  /** A snapshot of the cache counters. */
  readonly stats: TokenVerifierStats;
}

/**
 * A verifier that consults the cache first and caches successes only, so a rejected token is
 * checked again on every request.
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { issuer, audience, getKey } = options;
  const expectations: TokenExpectations = {
    issuer,
    audience,
    ...(options.ownClientId === undefined ? {} : { ownClientId: options.ownClientId }),
  };
  const now = options.now ?? Date.now;
  const cache = options.cache ?? new VerifiedTokenCache({ now });
  let hits = 0;
  let misses = 0;
  return {
    async verify(token, digest = tokenDigest(token)) {
      const cached = cache.get(token, digest);
      if (cached !== undefined) {
        hits++;
        return cached;
      }
      misses++;
      const verified = await verifyAccessToken(token, expectations, getKey, now());
      cache.set(token, verified, digest);
      return verified;
    },
    get stats() {
      return { hits, misses };
    },
  };
}
