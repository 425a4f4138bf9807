// Talking to the IdP: discovery and JWKS today; authorization code + PKCE, token exchange
// (RFC 8693), refresh and revocation (RFC 7009) as the flows arrive. No HTTP framework here.
export {
  IdpClient,
  idpSettingsOf,
  type Idp,
  type IdpReachability,
  type IdpSettings,
  type IdpStatus,
} from "./discovery.ts";
export { ACCESS_TOKEN_TYPE, exchangeToken, type ExchangedToken } from "./exchange.ts";
export { revokeRefreshToken } from "./revoke.ts";
export { refreshAtIdp } from "./refresh.ts";
export { answerText } from "./oauth-error.ts";
export {
  ClientAuthCheck,
  ownClientToken,
  probeClientCredentials,
  type OwnToken,
  type ProbeResult,
} from "./probe.ts";
