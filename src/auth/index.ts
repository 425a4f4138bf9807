// Inbound access tokens: reading the bearer header, verifying the JWT (signature, iss, aud, exp),
// scopes, the WWW-Authenticate challenge and the verified-token cache. Pure and framework-free:
// only the JWKS passed in does I/O.
export {
  MALFORMED_AUTHORIZATION_DESCRIPTION,
  ONE_METHOD_DESCRIPTION,
  extractBearerToken,
  type OtherTokenMethod,
} from "./bearer.ts";
export {
  DEFAULT_MAX_CACHED_TOKENS,
  VerifiedTokenCache,
  createTokenVerifier,
  type TokenVerifier,
  type TokenVerifierOptions,
  type TokenVerifierStats,
  type VerifiedTokenCacheOptions,
  tokenDigest,
} from "./cache.ts";
export { wwwAuthenticate, type ChallengeError, type ChallengeOptions } from "./challenge.ts";
export { missingScopes, parseScopes } from "./scopes.ts";
export {
  ALLOWED_ALGORITHMS,
  CLOCK_TOLERANCE_SECONDS,
  INVALID_TOKEN_DESCRIPTION,
  KEYS_UNAVAILABLE_DESCRIPTION,
  toAuthInfo,
  verifyAccessToken,
  type TokenExpectations,
  type VerifiedToken,
} from "./verify.ts";
