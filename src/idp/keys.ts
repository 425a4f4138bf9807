import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwksCache,
  type JWKSCacheInput,
  type JWTVerifyGetKey,
  type RemoteJWKSet,
} from "jose";

/** How long after a failed JWKS fetch the last keys are used without trying the IdP again. */
export const KEYS_RETRY_AFTER_MS = 10_000;

/**
 * How long past the last successful fetch the last keys stay usable while the IdP cannot be
 * reached. Past it, verification answers 503 until the IdP answers again (ADR 0020).
 */
export const STALE_KEYS_MAX_MS = 60 * 60_000;

/** Options of {@link outageTolerantKeys}. */
export interface OutageTolerantKeysOptions {
  retryAfterMs?: number;
  maxStaleMs?: number;
  /** Clock in milliseconds. */
  now?: () => number;
  /** Told once per outage, when the first fetch fails and the last keys are used instead. */
  onOutage?: (err: unknown) => void;
  /** Told when a fetch succeeds again after an outage. */
  onRecovery?: () => void;
}

// Errors of finding the key in a loaded set: the token's fault or the set's, not the IdP's reachability.
function isLookupError(err: unknown): boolean {
  return (
    err instanceof errors.JWKSNoMatchingKey ||
    err instanceof errors.JWKSMultipleMatchingKeys ||
    err instanceof errors.JOSENotSupported ||
    err instanceof errors.JWSInvalid ||
    err instanceof errors.JOSEAlgNotAllowed
  );
}

/** An unknown `kid` while jose's copy of the key set may not be refetched yet (its cooldown). */
export class KeysCoolingDown extends Error {
  constructor(cause: unknown) {
    super("no key with this kid in the key set fetched moments ago; it is fetched again shortly", {
      cause,
    });
    this.name = "KeysCoolingDown";
  }
}

/** jose's remote key set with the record of its last successful fetch (jose writes it). */
export interface RemoteKeys {
  readonly remote: RemoteJWKSet;
  /** Passed to jose as its `[jwksCache]`: jose sets `uat` and `jwks` on every successful fetch. */
  readonly cache: JWKSCacheInput;
}

/** A remote key set of the IdP's `jwks_uri` that records its fetches for {@link outageTolerantKeys}. */
export function remoteKeys(
  url: URL,
  options: { timeoutMs: number; cooldownMs?: number; cacheMaxAgeMs?: number },
): RemoteKeys {
  const cache: JWKSCacheInput = {};
  const remote = createRemoteJWKSet(url, {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: options.cooldownMs ?? 30_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 10 * 60_000,
    [jwksCache]: cache,
  });
  return { remote, cache };
}

/**
 * The IdP's key set for verifying access tokens, kept usable while the IdP is down. jose's remote set
 * refetches when its copy is older than `cacheMaxAge` (and on an unknown `kid` outside its
 * cooldown) and throws when that fetch fails, so that every token, even one signed by a key it
 * holds, would be refused (503) once the copy aged, each request waiting for the fetch's timeout.
 * Here a failed fetch falls back to the keys last fetched, and for `retryAfterMs` after the failure
 * they are used without asking the IdP, so requests do not queue behind its timeout. Keys fetched
 * longer than `maxStaleMs` ago are not used; a `kid` the last keys do not hold is refused with the
 * fetch's error (503, "try again later"): the token may be valid, the gateway cannot tell.
 */
export function outageTolerantKeys(
  keys: RemoteKeys,
  options: OutageTolerantKeysOptions = {},
): JWTVerifyGetKey {
  const { remote, cache } = keys;
  const retryAfterMs = options.retryAfterMs ?? KEYS_RETRY_AFTER_MS;
  const maxStaleMs = options.maxStaleMs ?? STALE_KEYS_MAX_MS;
  const now = options.now ?? Date.now;
  let failure: { at: number; err: unknown } | undefined;
  let last: { uat: number; getKey: JWTVerifyGetKey } | undefined;
  // When (on our clock) jose's record last changed: jose stamps its own with Date.now().
  let seen = { uat: "uat" in cache ? cache.uat : undefined, at: now() };
  const noteFetch = () => {
    if ("uat" in cache && cache.uat !== seen.uat) seen = { uat: cache.uat, at: now() };
  };

  const fromLastKeys = async (
    err: unknown,
    ...args: Parameters<JWTVerifyGetKey>
  ): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> => {
    noteFetch();
    if (!("uat" in cache) || now() - seen.at > maxStaleMs) throw err;
    if (last?.uat !== cache.uat) last = { uat: cache.uat, getKey: createLocalJWKSet(cache.jwks) };
    try {
      return await last.getKey(...args);
    } catch (lookup) {
      if (lookup instanceof errors.JWKSNoMatchingKey) throw err;
      throw lookup;
    }
  };

  return async (header, token) => {
    if (failure !== undefined && now() - failure.at < retryAfterMs) {
      return fromLastKeys(failure.err, header, token);
    }
    const fetchedBefore = seen.uat;
    try {
      const key = await remote(header, token);
      noteFetch();
      // Only a fetch that succeeded ends an outage; keys still fresh in jose's copy prove nothing.
      if (failure !== undefined && seen.uat !== fetchedBefore) {
        failure = undefined;
        options.onRecovery?.();
      }
      return key;
    } catch (err) {
      noteFetch();
      // An unknown kid just after a fetch: jose does not fetch again for its cooldown. The IdP may
      // have rotated its keys a moment ago, so "try again shortly" (503), not "invalid token" (401),
      // which would make the client sign in again only to be refused the same way.
      if (err instanceof errors.JWKSNoMatchingKey && remote.coolingDown && seen.uat !== fetchedBefore) {
        throw err;
      }
      if (err instanceof errors.JWKSNoMatchingKey && remote.coolingDown) {
        throw new KeysCoolingDown(err);
      }
      if (isLookupError(err)) throw err;
      if (failure === undefined) options.onOutage?.(err);
      failure = { at: now(), err };
      return fromLastKeys(err, header, token);
    }
  };
}
